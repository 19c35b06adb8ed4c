//! The agent's view: the `dpu-nvmf` binary serving `NvmfInternalService` and
//! `ServiceControl` on a Unix socket. A whole-state Sync creates volumes, a
//! subsystem, namespaces and a listener (reporting bad objects as FAILED without
//! touching the rest); the initiator then does I/O; a second Sync hot-adds and
//! removes namespaces, which the connected host sees as asynchronous events.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Process, free_loopback_port};
use dpu_nvmf::initiator::{HostController, HostOptions, InitiatorError};
use dpu_nvmf_proto::cqe::Status;
use dpu_proto::dpu::internal::v1::GetServiceInfoRequest;
use dpu_proto::dpu::internal::v1::service_control_client::ServiceControlClient;
use dpu_proto::dpu::nvmf::v1 as pb;
use dpu_proto::dpu::nvmf::v1::nvmf_internal_service_client::NvmfInternalServiceClient;

const NQN: &str = "nqn.2024-01.io.example:internal";

fn volume(name: &str, backend: Option<pb::volume_spec::Backend>) -> pb::Volume {
    pb::Volume {
        name: name.into(),
        generation: 1,
        spec: Some(pb::VolumeSpec { backend, block_size: 512, ..Default::default() }),
        ..Default::default()
    }
}

fn ram(size: u64) -> Option<pb::volume_spec::Backend> {
    Some(pb::volume_spec::Backend::Ram(pb::RamBackend { size_bytes: size }))
}

fn namespace(nsid: u32, vol: &str) -> pb::Namespace {
    pb::Namespace {
        name: format!("subsystems/s1/namespaces/{nsid}"),
        generation: 1,
        spec: Some(pb::NamespaceSpec { volume: vol.into(), ..Default::default() }),
        ..Default::default()
    }
}

fn state(s: Option<&pb::ObjectStatus>) -> (i32, String) {
    let s = s.unwrap();
    (s.state, s.message.clone())
}

const APPLIED: i32 = pb::ApplyState::Applied as i32;
const FAILED: i32 = pb::ApplyState::Failed as i32;

/// On the listener that allows header digests only, a host gets them and may not have
/// data digests; the discovery-only listener serves the discovery log (the discovery
/// subsystem at that listener, then an entry for each I/O listener of the subsystem, the
/// discovery one not among them) and no I/O controller.
async fn listeners_keep_their_digest_and_discovery_settings(hdgst: u16, disc: u16, io: u16) {
    use dpu_nvmf::initiator::HostQueue;
    use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
    let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let digests = |hdgst, ddgst| HostOptions { hdgst, ddgst, ..HostOptions::default() };
    let q = HostQueue::open(at(hdgst), &digests(true, false)).await.unwrap();
    assert!(q.framing().hdgst && !q.framing().ddgst);
    assert!(HostQueue::open(at(hdgst), &digests(false, true)).await.is_err());
    assert!(HostQueue::open(at(io), &digests(true, true)).await.is_ok(), "l1 allows both");

    let mut d = HostQueue::open(at(disc), &HostOptions::default()).await.unwrap();
    let c = d.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap();
    assert!(c.cqe.status.is_success());
    d.property_set(0x14, 1).await.unwrap();
    let log = d.get_log_page(0x70, 4 * 1024, 0).await.unwrap();
    let n = u64::from_le_bytes(log[8..16].try_into().unwrap());
    assert_eq!(n, 3, "the discovery subsystem itself, then two I/O listeners");
    let svcid = |i: usize| {
        let svcid = &log[i * 1024 + 32..i * 1024 + 64];
        String::from_utf8_lossy(svcid).trim_end_matches(['\0', ' ']).to_owned()
    };
    assert_eq!((log[1024 + 2], svcid(1)), (3, disc.to_string()), "current discovery subsystem");
    let mut ports: Vec<String> = (2..4).map(svcid).collect();
    ports.sort();
    let mut want = vec![io.to_string(), hdgst.to_string()];
    want.sort();
    assert_eq!(ports, want);
    let refused = HostController::connect(at(disc), NQN, &HostOptions::default(), 1).await;
    assert!(refused.is_err(), "no I/O controller on a discovery-only listener");
}

/// Referrals on the discovery-only listener (the request's third) change in place: a
/// discovery controller connected before sees the referral entry after the change on the
/// same connection; a bad referral is refused by field and the listener keeps its own.
async fn referrals_change_in_place(
    client: &mut NvmfInternalServiceClient<tonic::transport::Channel>,
    req: &pb::SyncRequest,
    disc: u16,
) {
    use dpu_nvmf::initiator::HostQueue;
    use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
    let at = SocketAddr::from(([127, 0, 0, 1], disc));
    let mut d = HostQueue::open(at, &HostOptions::default()).await.unwrap();
    assert!(d.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap().cqe.status.is_success());
    d.property_set(0x14, 1).await.unwrap();
    let entries = async |d: &mut HostQueue| {
        let log = d.get_log_page(0x70, 8 * 1024, 0).await.unwrap();
        let n = u64::from_le_bytes(log[8..16].try_into().unwrap()) as usize;
        let text = |e: &[u8]| String::from_utf8_lossy(e).trim_end_matches(['\0', ' ']).to_owned();
        (1..=n)
            .map(|i| {
                let e = &log[i * 1024..(i + 1) * 1024];
                (e[2], text(&e[512..768]), text(&e[32..64]), text(&e[256..512]))
            })
            .collect::<Vec<_>>()
    };
    let first = entries(&mut d).await;
    assert_eq!(first.len(), 3, "this discovery service, two subsystem entries: {first:?}");
    let itself = (3u8, "127.0.0.1".to_owned(), disc.to_string(), DISCOVERY_NQN.to_owned());
    assert_eq!(first[0], itself, "SUBTYPE 3, where the host came in");
    let with_referrals = |refs: &[(&str, u32)]| {
        let mut r = req.clone();
        r.listeners[2].spec.as_mut().unwrap().referrals =
            refs.iter().map(|(a, p)| pb::Referral { address: (*a).into(), port: *p }).collect();
        r
    };
    let disc_state = |r: &pb::SyncResponse| {
        let l = r.listeners.iter().find(|l| l.name == "listeners/disc").unwrap();
        state(l.status.as_ref().unwrap().apply.as_ref())
    };
    let r = client.sync(with_referrals(&[("192.0.2.20", 0)])).await.unwrap().into_inner();
    assert_eq!(disc_state(&r).0, APPLIED);
    let seen = entries(&mut d).await;
    assert_eq!(seen.len(), 4, "{seen:?}");
    let referral = (1u8, "192.0.2.20".to_owned(), "8009".to_owned(), DISCOVERY_NQN.to_owned());
    assert_eq!(seen[3], referral, "SUBTYPE 1, the default port");
    let r = client.sync(with_referrals(&[("0.0.0.0", 8009)])).await.unwrap().into_inner();
    let (st, msg) = disc_state(&r);
    assert!(st == FAILED && msg.starts_with("spec.referrals[0].address"), "{msg}");
    assert_eq!(entries(&mut d).await[3], referral, "a refused change keeps the referral");
    assert_eq!(disc_state(&client.sync(req.clone()).await.unwrap().into_inner()).0, APPLIED);
    assert_eq!(entries(&mut d).await, first, "referral removed, same connection");
}

/// Changes to the listener `listeners/hdgst` (the request's second) keep it serving: its
/// digests change in place (the session connected before stays, a new one gets the new
/// choice); a move to an address it cannot bind fails and leaves it where it was; turning
/// it discovery-only rebinds the same address.
async fn listener_changes_keep_serving(
    client: &mut NvmfInternalServiceClient<tonic::transport::Channel>,
    req: &pb::SyncRequest,
    hdgst: u16,
) {
    use dpu_nvmf::initiator::HostQueue;
    use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
    let at = SocketAddr::from(([127, 0, 0, 1], hdgst));
    let digests = |ddgst| HostOptions { hdgst: true, ddgst, ..HostOptions::default() };
    let changed = |change: &dyn Fn(&mut pb::ListenerSpec)| {
        let mut r = req.clone();
        change(r.listeners[1].spec.as_mut().unwrap());
        r
    };
    let outcome = |r: &pb::SyncResponse| {
        let l = r.listeners.iter().find(|l| l.name == "listeners/hdgst").unwrap();
        let st = l.status.as_ref().unwrap();
        (state(st.apply.as_ref()), st.port_id)
    };
    let before = outcome(&client.sync(req.clone()).await.unwrap().into_inner());
    let mut d = HostQueue::open(at, &digests(false)).await.unwrap();

    let both = changed(&|s| s.allow_data_digest = Some(true));
    let r = client.sync(both).await.unwrap().into_inner();
    assert_eq!(outcome(&r), before, "digests change in place");
    assert!(HostQueue::open(at, &digests(true)).await.is_ok(), "data digests now allowed");
    let c = d.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap();
    assert!(c.cqe.status.is_success(), "the session opened before stays");

    let away = changed(&|s| s.address = "192.0.2.1".into());
    let r = client.sync(away).await.unwrap().into_inner();
    let ((st, msg), port_id) = outcome(&r);
    assert_eq!((st, port_id), (FAILED, before.1), "{msg}");
    assert!(msg.contains("192.0.2.1"), "{msg}");
    assert!(HostQueue::open(at, &digests(false)).await.is_ok(), "still serving where it was");

    // Moved to another port in the same Sync that adds a listener named before it: the
    // moved one keeps its port ID, the new one takes another.
    let held = [(); 2].map(|()| TcpListener::bind("127.0.0.1:0").unwrap());
    let [moved_to, new_port] = held.map(|l| l.local_addr().unwrap().port());
    let mut moved = changed(&|s| s.port = u32::from(moved_to));
    let mut first = moved.listeners[1].clone();
    first.name = "listeners/a-first".into();
    first.spec.as_mut().unwrap().port = u32::from(new_port);
    moved.listeners.push(first);
    let r = client.sync(moved).await.unwrap().into_inner();
    assert_eq!(outcome(&r).1, before.1, "the moved listener keeps its port ID");
    let first = r.listeners.iter().find(|l| l.name == "listeners/a-first").unwrap();
    let first_id = first.status.as_ref().unwrap().port_id;
    assert!(first_id != 0 && first_id != before.1, "{first_id}");
    let at_moved = SocketAddr::from(([127, 0, 0, 1], moved_to));
    assert!(HostQueue::open(at_moved, &digests(false)).await.is_ok(), "serving where it moved");

    let discovery = changed(&|s| s.discovery_only = true);
    let r = client.sync(discovery).await.unwrap().into_inner();
    assert_eq!(outcome(&r).0.0, APPLIED, "the same address bound again");
    let refused = HostController::connect(at, NQN, &HostOptions::default(), 1).await;
    assert!(refused.is_err(), "discovery only now");
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(outcome(&r).0.0, APPLIED);
    assert!(HostQueue::open(at, &digests(false)).await.is_ok());
    assert!(HostQueue::open(at, &digests(true)).await.is_err(), "data digests refused again");
}

/// Namespace `nsid`'s (NGUID, UUID) from its Identification Descriptor list (CNS 03h).
async fn namespace_ids(c: &mut HostController, nsid: u32) -> ([u8; 16], [u8; 16]) {
    let list = c.admin.identify(3, nsid).await.unwrap();
    let (mut nguid, mut uuid) = ([0; 16], [0; 16]);
    let mut at = 0;
    // Descriptors: type, length, two reserved bytes, the identifier; a type 0 ends them.
    while at + 4 <= list.len() && list[at] != 0 {
        let len = usize::from(list[at + 1]);
        let id = &list[at + 4..at + 4 + len];
        match list[at] {
            2 => nguid.copy_from_slice(id),
            3 => uuid.copy_from_slice(id),
            _ => {}
        }
        at += 4 + len;
    }
    (nguid, uuid)
}

/// The service on `socket` (its log in `log`), once the socket is there.
async fn spawn(socket: &Path, log: &Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    let p = Process(
        Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"))
            .arg("--socket")
            .arg(socket)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < Duration::from_secs(15), "no socket");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    p
}

/// A service with one RAM volume (`volumes/r1`, 8 MiB), subsystem `subsystems/s1` (any
/// host), its namespace 1 on the volume and a listener, all applied; and a host
/// connected with one I/O queue.
async fn one_namespace_served(
    dir: &Path,
) -> (Process, NvmfInternalServiceClient<tonic::transport::Channel>, pb::SyncRequest, HostController)
{
    let socket = dir.join("nvmf.sock");
    let p = spawn(&socket, &dir.join("log")).await;
    let mut client = NvmfInternalServiceClient::new(dpu_runtime::unix::channel(&socket));
    let port = free_loopback_port();
    let req = pb::SyncRequest {
        volumes: vec![volume("volumes/r1", ram(8 << 20))],
        subsystems: vec![pb::Subsystem {
            name: "subsystems/s1".into(),
            generation: 1,
            spec: Some(pb::SubsystemSpec {
                nqn: NQN.into(),
                serial_number: "INT1".into(),
                allow_any_host: true,
                ..Default::default()
            }),
            ..Default::default()
        }],
        namespaces: vec![namespace(1, "volumes/r1")],
        listeners: vec![common::loopback_listener_pb("listeners/l1", port)],
    };
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    assert_eq!(state(r.namespaces[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let c = HostController::connect(addr, NQN, &HostOptions::default(), 1).await.unwrap();
    (p, client, req, c)
}

/// A subsystem's serial and model change in place: its controllers, namespaces and
/// their reservations stay (a host takes the same NGUID for the same disk, so dropping
/// its registrations behind it would be a silent loss), and Identify shows the new ones.
#[tokio::test]
async fn a_serial_or_model_change_keeps_controllers_and_reservations() {
    let dir = tempfile::tempdir().unwrap();
    let (_p, mut client, mut req, mut c) = one_namespace_served(dir.path()).await;
    use dpu_nvmf_proto::sqe::io_opcode;
    // Register key 0xAB on namespace 1 (RREGA 000b, CRKEY 0, NRKEY 0xAB).
    let reg = c.io[0].reservation(io_opcode::RESERVATION_REGISTER, 1, 0, &[0, 0xAB]).await;
    assert!(reg.unwrap().cqe.status.is_success());
    let ids = namespace_ids(&mut c, 1).await;

    let spec = req.subsystems[0].spec.as_mut().unwrap();
    spec.serial_number = "INT2".into();
    spec.model_number = "renamed".into();
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    assert_eq!(state(r.namespaces[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    let controllers = r.subsystems[0].status.as_ref().unwrap().controllers;
    assert_eq!(controllers, 1, "the controller survives");
    assert!(c.admin.keep_alive().await.is_ok());
    let id = c.admin.identify(1, 0).await.unwrap();
    assert_eq!(&id[4..24], b"INT2                ", "SN");
    assert_eq!(&id[24..64], format!("{:40}", "renamed").as_bytes(), "MN");
    assert_eq!(namespace_ids(&mut c, 1).await, ids, "the same namespace");
    // Reservation Report, extended data structure (EDS): one registrant, key 0xAB.
    let mut report = dpu_nvmf_proto::Sqe::new(io_opcode::RESERVATION_REPORT, 0);
    report.nsid = 1;
    (report.cdw[0], report.cdw[1]) = (4096 / 4 - 1, 1);
    let rep = c.io[0].submit(report, None, 4096).await.unwrap();
    assert!(rep.cqe.status.is_success(), "{:?}", rep.cqe);
    assert_eq!(u16::from_le_bytes([rep.data[5], rep.data[6]]), 1, "REGCTL: still registered");
    assert_eq!(&rep.data[64 + 8..64 + 16], &0xABu64.to_le_bytes(), "RKEY");
}

/// A namespace moved to a volume that failed to open is refused and keeps serving on
/// the volume it had: a failed object changes nothing.
#[tokio::test]
async fn a_move_to_a_volume_that_failed_keeps_the_namespace_serving() {
    let dir = tempfile::tempdir().unwrap();
    let (_p, mut client, mut req, mut c) = one_namespace_served(dir.path()).await;
    let data = vec![0x5Au8; 4096];
    assert!(c.io[0].write(1, 0, &data, 512).await.unwrap().cqe.status.is_success());
    let ids = namespace_ids(&mut c, 1).await;

    let missing = dir.path().join("no-such-device").to_string_lossy().into_owned();
    let backend = pb::volume_spec::Backend::BlockDevice(pb::BlockDeviceBackend { path: missing });
    req.volumes.push(volume("volumes/v2", Some(backend)));
    req.namespaces[0].spec.as_mut().unwrap().volume = "volumes/v2".into();
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.volumes[1].status.as_ref().unwrap().apply.as_ref()).0, FAILED);
    let (st, msg) = state(r.namespaces[0].status.as_ref().unwrap().apply.as_ref());
    assert!(st == FAILED && msg.contains("volumes/v2"), "{msg}");
    let read = c.io[0].read(1, 0, 8, 512).await.unwrap();
    assert!(read.cqe.status.is_success(), "still served: {:?}", read.cqe.status);
    assert!(read.data == data, "still served on volumes/r1");
    assert_eq!(namespace_ids(&mut c, 1).await, ids, "the same namespace");
    // Back on volumes/r1: the same namespace, applied again.
    req.namespaces[0].spec.as_mut().unwrap().volume = "volumes/r1".into();
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.namespaces[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    assert_eq!(namespace_ids(&mut c, 1).await, ids, "the same namespace");
    assert_eq!(c.io[0].read(1, 0, 8, 512).await.unwrap().data, data);
}

#[tokio::test]
async fn sync_configures_the_target_and_hot_adds_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nvmf.sock");
    let mut p = spawn(&socket, &dir.path().join("log")).await;
    let channel = dpu_runtime::unix::channel(&socket);
    let info = ServiceControlClient::new(channel.clone())
        .get_service_info(GetServiceInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.service, "nvmf");
    let mut client = NvmfInternalServiceClient::new(channel);

    // Three distinct ports, all held until each was picked.
    let held = [(); 3].map(|()| TcpListener::bind("127.0.0.1:0").unwrap());
    let [port, hdgst_port, disc_port] = held.map(|l| l.local_addr().unwrap().port());
    let listener = pb::Listener {
        name: "listeners/l1".into(),
        generation: 1,
        spec: Some(pb::ListenerSpec {
            trtype: pb::TransportType::Tcp as i32,
            address: "127.0.0.1".into(),
            port: u32::from(port),
            allow_header_digest: Some(true),
            allow_data_digest: Some(true),
            discovery_only: false,
            ana_groups: vec![],
            referrals: vec![],
            port_id: 0,
        }),
        ..Default::default()
    };
    let subsystem = pb::Subsystem {
        name: "subsystems/s1".into(),
        generation: 1,
        spec: Some(pb::SubsystemSpec {
            nqn: NQN.into(),
            serial_number: "INT1".into(),
            model_number: String::new(),
            allow_any_host: true,
            allowed_hosts: vec![],
            ..Default::default()
        }),
        ..Default::default()
    };
    // A listener that allows header digests only, and a discovery-only one.
    let listener_at = |name: &str, port: u16, ddgst: bool, discovery_only: bool| pb::Listener {
        name: name.into(),
        spec: Some(pb::ListenerSpec {
            port: u32::from(port),
            allow_data_digest: Some(ddgst),
            discovery_only,
            ..listener.spec.clone().unwrap()
        }),
        ..listener.clone()
    };
    let mut req = pb::SyncRequest {
        volumes: vec![volume("volumes/r1", ram(8 << 20)), volume("volumes/bad", None)],
        subsystems: vec![subsystem.clone()],
        namespaces: vec![namespace(1, "volumes/r1"), namespace(2, "volumes/missing")],
        listeners: vec![
            listener.clone(),
            listener_at("listeners/hdgst", hdgst_port, false, false),
            listener_at("listeners/disc", disc_port, true, true),
        ],
    };
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    let v = |i: usize| state(r.volumes[i].status.as_ref().unwrap().apply.as_ref());
    assert_eq!(v(0).0, APPLIED);
    assert_eq!(r.volumes[0].status.as_ref().unwrap().block_count, 16384);
    assert_eq!(v(1).0, FAILED);
    assert!(v(1).1.contains("backend is required"), "{}", v(1).1);
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    let n = |r: &pb::SyncResponse, i: usize| {
        state(r.namespaces[i].status.as_ref().unwrap().apply.as_ref())
    };
    assert_eq!(n(&r, 0).0, APPLIED);
    assert_eq!(n(&r, 1).0, FAILED);
    assert!(n(&r, 1).1.contains("volumes/missing"), "{}", n(&r, 1).1);
    let port_id = |name: &str| {
        let l = r.listeners.iter().find(|l| l.name == name).unwrap();
        l.status.as_ref().unwrap().port_id
    };
    let mut ids = ["listeners/l1", "listeners/hdgst", "listeners/disc"].map(port_id);
    ids.sort();
    assert_eq!(ids, [1, 2, 3], "every listener gets a port ID, a discovery-only one too");
    assert!(
        r.listeners
            .iter()
            .all(|l| { state(l.status.as_ref().unwrap().apply.as_ref()).0 == APPLIED })
    );
    listeners_keep_their_digest_and_discovery_settings(hdgst_port, disc_port, port).await;
    referrals_change_in_place(&mut client, &req, disc_port).await;
    listener_changes_keep_serving(&mut client, &req, hdgst_port).await;

    // A host connects and does I/O.
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut c = HostController::connect(addr, NQN, &HostOptions::default(), 1).await.unwrap();
    let data = vec![0xC3u8; 8192];
    assert!(c.io[0].write(1, 0, &data, 512).await.unwrap().cqe.status.is_success());
    assert_eq!(c.io[0].read(1, 0, 16, 512).await.unwrap().data, data);

    // A subsystem change the target refuses (the NQN of another subsystem, a serial that
    // is not ASCII) fails alone: s1, its namespace and its host's controller stay.
    let mut s2 = subsystem.clone();
    s2.name = "subsystems/s2".into();
    s2.spec.as_mut().unwrap().nqn = "nqn.2024-01.io.example:internal-2".into();
    let mut with_s2 = req.clone();
    with_s2.subsystems.push(s2.clone());
    let r = client.sync(with_s2.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[1].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    for change in [
        &(|s: &mut pb::SubsystemSpec| s.nqn = "nqn.2024-01.io.example:internal-2".into())
            as &dyn Fn(&mut pb::SubsystemSpec),
        &|s| s.serial_number = "séria".into(),
    ] {
        let mut refused = with_s2.clone();
        change(refused.subsystems[0].spec.as_mut().unwrap());
        let r = client.sync(refused).await.unwrap().into_inner();
        let (st, msg) = state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref());
        assert_eq!(st, FAILED, "{msg}");
        assert_eq!(state(r.subsystems[1].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
        assert_eq!(n(&r, 0).0, APPLIED, "the namespace stays");
        assert_eq!(c.io[0].read(1, 0, 16, 512).await.unwrap().data, data, "{msg}");
    }
    // So does a volume that cannot be opened anew (a file in a directory that is not).
    let mut moved = req.clone();
    moved.volumes[0].spec.as_mut().unwrap().backend =
        Some(pb::volume_spec::Backend::File(pb::FileBackend {
            path: dir.path().join("no-such-dir/r1").to_string_lossy().into_owned(),
            size_bytes: 8 << 20,
        }));
    let r = client.sync(moved).await.unwrap().into_inner();
    let (st, msg) = state(r.volumes[0].status.as_ref().unwrap().apply.as_ref());
    assert_eq!(st, FAILED, "{msg}");
    assert_eq!(r.volumes[0].status.as_ref().unwrap().block_count, 16384, "as it was");
    assert_eq!(n(&r, 0).0, APPLIED, "the namespace stays on it");
    assert_eq!(c.io[0].read(1, 0, 16, 512).await.unwrap().data, data, "{msg}");
    // And a namespace whose new identity is refused (an NGUID that is not hex).
    let mut bad_nguid = req.clone();
    bad_nguid.namespaces[0].spec.as_mut().unwrap().nguid = "zz".repeat(16);
    let r = client.sync(bad_nguid).await.unwrap().into_inner();
    let (st, msg) = n(&r, 0);
    assert_eq!((st, msg.as_str()), (FAILED, "spec.nguid must be 32 hex digits"));
    assert_eq!(c.io[0].read(1, 0, 16, 512).await.unwrap().data, data, "still served");
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    assert!(c.admin.keep_alive().await.is_ok(), "the same controller throughout");

    c.admin.set_features(0x0B, 1 << 8).await.unwrap();
    c.admin.send_only(dpu_nvmf_proto::Sqe::new(0x0C, 0)).await.unwrap();

    // Second sync: namespace 3 added (same volume), namespace 1 removed; the same
    // subsystem and listener stay (the connection survives).
    req.namespaces = vec![namespace(3, "volumes/r1")];
    req.volumes.truncate(1);
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(n(&r, 0).0, APPLIED);
    let ev = c.admin.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev.dw0, 0x0004_0002, "namespace attribute changed event");
    let log = c.admin.get_log_page(4, 4096, 0).await.unwrap();
    assert_eq!(&log[0..8], &[1, 0, 0, 0, 3, 0, 0, 0]);
    let r1 = c.io[0].read(1, 0, 16, 512).await.unwrap();
    assert_eq!(r1.cqe.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    assert_eq!(c.io[0].read(3, 0, 16, 512).await.unwrap().data, data, "same volume");

    let stats = client.get_nvmf_stats(pb::GetNvmfStatsRequest {}).await.unwrap().into_inner();
    assert!(stats.connections >= 2);
    assert_eq!(stats.namespaces.len(), 1);
    assert_eq!(stats.namespaces[0].name, "subsystems/s1/namespaces/3");

    // An idempotent re-sync changes nothing; an empty one removes everything.
    let again = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(n(&again, 0).0, APPLIED);
    assert!(c.admin.keep_alive().await.is_ok());

    // The default host gets a DH-HMAC-CHAP secret, in place: the connected controller
    // keeps going, the response shows no secret, and new connections must authenticate.
    let secret = dpu_nvmf::dhchap::Secret::new(&[0x3C; 32], 1).unwrap();
    let with_secret = |text: &str| {
        let mut s = subsystem.clone();
        s.spec.as_mut().unwrap().host_secrets = vec![pb::HostSecret {
            host_nqn: HostOptions::default().hostnqn,
            dhchap_secret: text.into(),
            ..Default::default()
        }];
        s
    };
    req.subsystems = vec![with_secret(&secret.to_text())];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    // Write-only: the reply carries no spec at all.
    assert_eq!(r.subsystems[0].spec, None, "{:?}", r.subsystems[0]);
    assert!(c.admin.keep_alive().await.is_ok(), "the connected controller stays");
    let refused = HostController::connect(addr, NQN, &HostOptions::default(), 1).await;
    assert!(matches!(refused, Err(InitiatorError::Auth(_))), "{:?}", refused.err());
    let opts = HostOptions { dhchap_secret: Some(secret.clone()), ..HostOptions::default() };
    let mut authed = HostController::connect(addr, NQN, &opts, 1).await.unwrap();
    assert_eq!(authed.io[0].read(3, 0, 16, 512).await.unwrap().data, data);
    authed.shutdown().await.unwrap();
    // A malformed secret fails the subsystem's apply, naming the field, not the secret.
    let mut text = secret.to_text().to_string();
    text.replace_range(12..14, "zz");
    req.subsystems = vec![with_secret(&text)];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    let (st, msg) = state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref());
    assert_eq!(st, FAILED);
    assert!(msg.contains("spec.host_secrets[0].dhchap_secret"), "{msg}");
    assert!(!msg.contains(&text[10..30]), "the secret must not be echoed: {msg}");
    req.subsystems = vec![subsystem.clone()];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);

    // A controller ID range, in place: the connected controller keeps its ID, new ones
    // get theirs from the range, and a range out of bounds is refused naming the field
    // and changes nothing.
    let with_range = |min, max| {
        let mut s = subsystem.clone();
        let spec = s.spec.as_mut().unwrap();
        (spec.min_cntlid, spec.max_cntlid) = (min, max);
        s
    };
    req.subsystems = vec![with_range(40, 41)];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    assert!(c.admin.keep_alive().await.is_ok(), "the connected controller stays");
    let mut in_range =
        HostController::connect(addr, NQN, &HostOptions::default(), 1).await.unwrap();
    assert_eq!(in_range.cntlid, 40);
    req.subsystems = vec![with_range(0xFFF0, 0)];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    let (st, msg) = state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref());
    assert_eq!((st, msg.as_str()), (FAILED, "spec.min_cntlid 65520 is outside 1-65519"));
    let mut next = HostController::connect(addr, NQN, &HostOptions::default(), 1).await.unwrap();
    assert_eq!(next.cntlid, 41, "the applied range stays");
    in_range.shutdown().await.unwrap();
    next.shutdown().await.unwrap();
    req.subsystems = vec![subsystem.clone()];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);

    // An I/O queue limit, in place: a host asking for 3 queues gets 1; one out of bounds
    // is refused naming the field and changes nothing.
    let with_queues = |n| {
        let mut s = subsystem.clone();
        s.spec.as_mut().unwrap().max_io_queues = n;
        s
    };
    req.subsystems = vec![with_queues(1)];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    assert!(c.admin.keep_alive().await.is_ok(), "the connected controller stays");
    let mut one = HostController::connect(addr, NQN, &HostOptions::default(), 3).await.unwrap();
    assert_eq!(one.io.len(), 1);
    req.subsystems = vec![with_queues(129)];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    let (st, msg) = state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref());
    assert_eq!((st, msg.as_str()), (FAILED, "spec.max_io_queues 129 is outside 1-128"));
    let mut still_one =
        HostController::connect(addr, NQN, &HostOptions::default(), 3).await.unwrap();
    assert_eq!(still_one.io.len(), 1, "the applied limit stays");
    one.shutdown().await.unwrap();
    still_one.shutdown().await.unwrap();
    req.subsystems = vec![subsystem.clone()];
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[0].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);

    // The volume grows from 8 to 16 MiB: the host keeps its namespace and its data, is
    // told of the change, and finds the new blocks; the namespace keeps its IDs. A smaller
    // size afterwards is refused and changes nothing.
    let ids = namespace_ids(&mut c, 3).await;
    c.admin.send_only(dpu_nvmf_proto::Sqe::new(0x0C, 0)).await.unwrap();
    req.volumes[0] = volume("volumes/r1", ram(16 << 20));
    let grown = client.sync(req.clone()).await.unwrap().into_inner();
    let vs = grown.volumes[0].status.as_ref().unwrap();
    assert_eq!((state(vs.apply.as_ref()).0, vs.block_count), (APPLIED, 32768));
    assert_eq!(n(&grown, 0).0, APPLIED);
    let ev = c.admin.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev.dw0, 0x0004_0002, "namespace attribute changed event");
    let log = c.admin.get_log_page(4, 4096, 0).await.unwrap();
    assert_eq!(&log[0..8], &[3, 0, 0, 0, 0, 0, 0, 0]);
    let id_ns = c.admin.identify(0, 3).await.unwrap();
    assert_eq!(u64::from_le_bytes(id_ns[0..8].try_into().unwrap()), 32768, "NSZE");
    assert_eq!(namespace_ids(&mut c, 3).await, ids, "the same namespace");
    assert_eq!(c.io[0].read(3, 0, 16, 512).await.unwrap().data, data, "data stays");
    let past_old_end = c.io[0].read(3, 16384, 16, 512).await.unwrap();
    assert_eq!(past_old_end.data, vec![0; 8192], "{:?}", past_old_end.cqe);
    req.volumes[0] = volume("volumes/r1", ram(8 << 20));
    let shrunk = client.sync(req.clone()).await.unwrap().into_inner();
    let vs = shrunk.volumes[0].status.as_ref().unwrap();
    let (st, msg) = state(vs.apply.as_ref());
    assert_eq!((st, vs.block_count), (FAILED, 32768), "{msg}");
    assert!(msg.contains("only grow"), "{msg}");
    assert_eq!(n(&shrunk, 0).0, APPLIED, "the namespace stays on the volume as it was");
    assert!(c.io[0].read(3, 16384, 16, 512).await.unwrap().cqe.status.is_success());
    req.volumes[0] = volume("volumes/r1", ram(16 << 20));

    // A rate limit changes in place too: at 20 commands per second (a burst of two),
    // twelve reads take half a second at least; the namespace and its data stay.
    let mut limited = volume("volumes/r1", ram(16 << 20));
    limited.spec.as_mut().unwrap().max_iops = 20;
    req.volumes[0] = limited;
    let limited = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(
        (state(limited.volumes[0].status.as_ref().unwrap().apply.as_ref()).0, n(&limited, 0).0),
        (APPLIED, APPLIED)
    );
    let t0 = Instant::now();
    for _ in 0..12 {
        assert_eq!(c.io[0].read(3, 0, 16, 512).await.unwrap().data, data);
    }
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(450), "{took:?} for 12 reads at 20/s");
    assert_eq!(namespace_ids(&mut c, 3).await, ids, "the same namespace");
    req.volumes[0] = volume("volumes/r1", ram(16 << 20));
    assert_eq!(n(&client.sync(req.clone()).await.unwrap().into_inner(), 0).0, APPLIED);

    // ANA: listener l1 shows group 1 inaccessible. The same connection stays; its I/O
    // fails with a path error a host retries elsewhere (no DNR) and the host is told.
    // Then namespace 3 moves to group 7, optimized through l1, in place: I/O serves again.
    c.admin.set_features(0x0B, (1 << 8) | (1 << 11)).await.unwrap();
    c.admin.send_only(dpu_nvmf_proto::Sqe::new(0x0C, 0)).await.unwrap();
    let ana = |group: u32, state: pb::AnaState| pb::AnaGroupState {
        group,
        state: state as i32,
        ..Default::default()
    };
    let l1 = req.listeners.iter().position(|l| l.name == "listeners/l1").unwrap();
    let with_ana = |groups: Vec<pb::AnaGroupState>| {
        let mut l = listener.clone();
        l.spec.as_mut().unwrap().ana_groups = groups;
        l
    };
    req.listeners[l1] = with_ana(vec![ana(1, pb::AnaState::Inaccessible)]);
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    let l1_state = |r: &pb::SyncResponse| {
        let l = r.listeners.iter().find(|l| l.name == "listeners/l1").unwrap();
        state(l.status.as_ref().unwrap().apply.as_ref())
    };
    assert_eq!(l1_state(&r).0, APPLIED);
    let ev = c.admin.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev.dw0, 0x000C_0302, "ANA change event");
    let inaccessible = c.io[0].read(3, 0, 16, 512).await.unwrap().cqe.status;
    assert_eq!(inaccessible, Status::ANA_INACCESSIBLE, "a path error without DNR");
    let log = c.admin.get_log_page(0x0C, 4096, 0).await.unwrap();
    // Group 1: 1 NSID, state 03h inaccessible, NSID 3.
    assert_eq!(
        (&log[8..10], &log[16..24], log[32], &log[48..52]),
        (&[1, 0][..], &[1, 0, 0, 0, 1, 0, 0, 0][..], 3, &[3, 0, 0, 0][..])
    );
    // Bad states are refused and change nothing: the listener keeps serving as it was.
    let mut bad = req.clone();
    bad.listeners[l1] = with_ana(vec![ana(0, pb::AnaState::Optimized)]);
    let (st, msg) = l1_state(&client.sync(bad.clone()).await.unwrap().into_inner());
    assert!(st == FAILED && msg.contains("out of range 1..=128"), "{msg}");
    bad.listeners[l1] = with_ana(vec![ana(1, pb::AnaState::Unspecified)]);
    let (st, msg) = l1_state(&client.sync(bad).await.unwrap().into_inner());
    assert!(st == FAILED && msg.contains("state must be set"), "{msg}");
    assert_eq!(c.io[0].read(3, 0, 16, 512).await.unwrap().cqe.status, Status::ANA_INACCESSIBLE);
    c.admin.send_only(dpu_nvmf_proto::Sqe::new(0x0C, 0)).await.unwrap();
    req.namespaces[0].spec.as_mut().unwrap().ana_group = 7;
    let moved = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!((n(&moved, 0).0, l1_state(&moved).0), (APPLIED, APPLIED));
    let ev = c.admin.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev.dw0, 0x000C_0302, "ANA change event");
    assert_eq!(
        u32::from_le_bytes(c.admin.identify(0, 3).await.unwrap()[92..96].try_into().unwrap()),
        7,
        "ANAGRPID"
    );
    assert_eq!(c.io[0].read(3, 0, 16, 512).await.unwrap().data, data, "served in group 7");
    assert_eq!(namespace_ids(&mut c, 3).await, ids, "the same namespace");
    // Write protection changes in place too.
    let write = async |c: &mut HostController| c.io[0].write(3, 0, &data, 512).await.unwrap();
    req.namespaces[0].spec.as_mut().unwrap().read_only = true;
    assert_eq!(n(&client.sync(req.clone()).await.unwrap().into_inner(), 0).0, APPLIED);
    assert_eq!(c.admin.identify(0, 3).await.unwrap()[99], 1, "NSATTR: write protected");
    let refused = write(&mut c).await.cqe.status;
    assert_eq!(refused, Status::NAMESPACE_WRITE_PROTECTED.with_dnr());
    assert_eq!(namespace_ids(&mut c, 3).await, ids, "the same namespace");
    req.namespaces[0].spec.as_mut().unwrap().read_only = false;
    assert_eq!(n(&client.sync(req.clone()).await.unwrap().into_inner(), 0).0, APPLIED);
    assert!(write(&mut c).await.cqe.status.is_success());
    req.listeners[l1] = listener.clone();
    req.namespaces[0].spec.as_mut().unwrap().ana_group = 0;
    assert_eq!(n(&client.sync(req.clone()).await.unwrap().into_inner(), 0).0, APPLIED);

    // NSID 3 moved to another volume is another namespace: new default NGUID and UUID
    // (NVMe Base 2.0 §4.7.1: identifiers are not reused for a different namespace).
    let before = namespace_ids(&mut c, 3).await;
    assert_eq!(before, namespace_ids(&mut c, 3).await, "stable while nothing changes");
    req.volumes.push(volume("volumes/r2", ram(8 << 20)));
    req.namespaces = vec![namespace(3, "volumes/r2")];
    let moved = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(n(&moved, 0).0, APPLIED);
    let after = namespace_ids(&mut c, 3).await;
    assert!(before.0 != after.0 && before.1 != after.1, "{before:x?} {after:x?}");
    assert_eq!(c.io[0].read(3, 0, 16, 512).await.unwrap().data, vec![0; 8192], "new volume");

    // Two subsystems swapping their NQNs both apply, and the namespace goes with its
    // subsystem to the other NQN.
    const NQN2: &str = "nqn.2024-01.io.example:internal-2";
    let mut s2 = subsystem.clone();
    s2.name = "subsystems/s2".into();
    s2.spec.as_mut().unwrap().nqn = NQN2.into();
    req.subsystems.push(s2);
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    assert_eq!(state(r.subsystems[1].status.as_ref().unwrap().apply.as_ref()).0, APPLIED);
    req.subsystems[0].spec.as_mut().unwrap().nqn = NQN2.into();
    req.subsystems[1].spec.as_mut().unwrap().nqn = NQN.into();
    let r = client.sync(req.clone()).await.unwrap().into_inner();
    for s in &r.subsystems {
        let (st, msg) = state(s.status.as_ref().unwrap().apply.as_ref());
        assert_eq!(st, APPLIED, "{}: {msg}", s.name);
    }
    assert_eq!(n(&r, 0).0, APPLIED);
    let mut swapped =
        HostController::connect(addr, NQN2, &HostOptions::default(), 1).await.unwrap();
    assert!(swapped.io[0].read(3, 0, 16, 512).await.unwrap().cqe.status.is_success());
    swapped.shutdown().await.unwrap();
    let empty = client.sync(pb::SyncRequest::default()).await.unwrap().into_inner();
    assert!(empty.namespaces.is_empty());
    assert!(
        c.admin.wait_closed().await.unwrap().is_none(),
        "controller torn down with its subsystem"
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(p.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = p.0.try_wait().unwrap() {
            assert!(s.success(), "{s:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!socket.exists(), "socket removed on exit");
}
