//! The NVMe-oF service through the agent: the operator creates a volume, a subsystem, a
//! namespace and a listener; the agent stores them, applies them to the supervised `dpu-nvmf`
//! process and shows APPLIED; an NVMe/TCP initiator on loopback then reads back what it wrote.
//! Invalid input changes nothing; the host role reads but cannot write; a killed service is
//! restarted and gets the whole state again.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{
    Env, Who, assert_invalid, dpuctl, free_port, http_get, kill_service, ok, service_pid,
    stop_process, violation_field, wait_for, write_and_read,
};
use dpu_client::Client;
use dpu_nvmf::dhchap::Secret;
use dpu_nvmf::initiator::{HostController, HostOptions, InitiatorError};
use dpu_nvmf_proto::cqe::Status as NvmeStatus;
use dpu_proto::dpu::nvmf::v1::volume_spec::Backend;
use dpu_proto::dpu::nvmf::v1::{
    AnaGroupState, AnaState, ApplyState, ClearHostWriteProtectionRequest, CreateListenerRequest,
    CreateNamespaceRequest, CreateSubsystemRequest, CreateVolumeRequest, DeleteListenerRequest,
    DeleteSubsystemRequest, DeleteVolumeRequest, DhGroup, FileBackend, GetListenerRequest,
    GetNvmfStatsRequest, GetSubsystemRequest, GetVolumeRequest, HostSecret, HostWriteProtection,
    ListListenersRequest, ListNamespacesRequest, ListSubsystemsRequest, ListVolumesRequest,
    Listener, ListenerSpec, Namespace, NamespaceSpec, ObjectStatus, RamBackend, Referral,
    ReservationType, Subsystem, SubsystemSpec, TransportType, UpdateListenerRequest,
    UpdateSubsystemRequest, UpdateVolumeRequest, Volume, VolumeSpec,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tonic::Code;

const NQN: &str = "nqn.2024-01.io.example:dpud-test";
const HOST_NQN: &str = "nqn.2014-08.org.example:dpud-test-host";
const NS1: &str = "subsystems/s1/namespaces/1";
const NS2: &str = "subsystems/s1/namespaces/2";

fn ram_volume(size: u64) -> Volume {
    Volume {
        spec: Some(VolumeSpec {
            backend: Some(Backend::Ram(RamBackend { size_bytes: size })),
            block_size: 512,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn subsystem(nqn: &str) -> Subsystem {
    Subsystem {
        spec: Some(SubsystemSpec {
            nqn: nqn.into(),
            serial_number: "DPUD0001".into(),
            model_number: "dpud test".into(),
            allow_any_host: false,
            allowed_hosts: vec![HOST_NQN.into()],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn namespace(volume: &str) -> Namespace {
    Namespace {
        spec: Some(NamespaceSpec { volume: volume.into(), ..Default::default() }),
        ..Default::default()
    }
}

/// A TCP listener on 127.0.0.1:`port`.
fn tcp_listener(port: u16) -> Listener {
    Listener {
        spec: Some(ListenerSpec {
            trtype: TransportType::Tcp.into(),
            address: "127.0.0.1".into(),
            port: u32::from(port),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn is_applied(s: Option<&ObjectStatus>) -> bool {
    s.is_some_and(|s| s.state == ApplyState::Applied as i32)
}

/// Every stored nvmf object, as names, and whether all of them are APPLIED.
async fn state(client: &Client) -> (Vec<String>, bool) {
    let mut nvmf = client.nvmf();
    let v = nvmf.list_volumes(ListVolumesRequest::default()).await.unwrap().into_inner();
    let s = nvmf.list_subsystems(ListSubsystemsRequest::default()).await.unwrap().into_inner();
    let n = nvmf.list_namespaces(ListNamespacesRequest::default()).await.unwrap().into_inner();
    let l = nvmf.list_listeners(ListListenersRequest::default()).await.unwrap().into_inner();
    let mut names = Vec::new();
    let mut applied = true;
    for x in &v.volumes {
        names.push(x.name.clone());
        applied &= is_applied(x.status.as_ref().and_then(|s| s.apply.as_ref()));
    }
    for x in &s.subsystems {
        names.push(x.name.clone());
        applied &= is_applied(x.status.as_ref().and_then(|s| s.apply.as_ref()));
    }
    for x in &n.namespaces {
        names.push(x.name.clone());
        applied &= is_applied(x.status.as_ref().and_then(|s| s.apply.as_ref()));
    }
    for x in &l.listeners {
        names.push(x.name.clone());
        applied &= is_applied(x.status.as_ref().and_then(|s| s.apply.as_ref()));
    }
    (names, applied)
}

/// Connects as the allowed host, checks Identify, writes a block pattern and reads it back.
async fn write_and_read_back(addr: SocketAddr, seed: u8) {
    let mut c = connect_host(addr).await.unwrap();
    let id = c.admin.identify(1, 0).await.unwrap();
    assert_eq!(&id[4..12], b"DPUD0001");
    let data: Vec<u8> =
        (0..4096u32).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
    let w = c.io[0].write(1, 8, &data, 512).await.unwrap();
    assert!(w.cqe.status.is_success(), "{:?}", w.cqe);
    let r = c.io[0].read(1, 8, 8, 512).await.unwrap();
    assert!(r.cqe.status.is_success(), "{:?}", r.cqe);
    assert!(r.data == data, "the data read back differs");
    c.shutdown().await.unwrap();
}

/// On a write-protected namespace: Identify Namespace says so (NSATTR bit 0), a write
/// fails with Namespace Is Write Protected and Do Not Retry, a read succeeds.
async fn write_protected(addr: SocketAddr) {
    let mut c = connect_host(addr).await.unwrap();
    let id = c.admin.identify(0, 1).await.unwrap();
    assert_eq!(id[99] & 1, 1, "NSATTR: write protected");
    let w = c.io[0].write(1, 8, &[0u8; 4096], 512).await.unwrap();
    assert_eq!(w.cqe.status, NvmeStatus::NAMESPACE_WRITE_PROTECTED.with_dnr(), "{:?}", w.cqe);
    let r = c.io[0].read(1, 8, 8, 512).await.unwrap();
    assert!(r.cqe.status.is_success(), "{:?}", r.cqe);
    c.shutdown().await.unwrap();
}

/// With a controller of 2 I/O queues connected (after [`write_and_read_back`]'s
/// controller of 1), the host reads per-subsystem and per-queue counters through the
/// agent and with `dpuctl nvmf stats` (table and JSON); only the operator learns which
/// fabric host a controller belongs to.
async fn subsystem_controller_and_queue_stats(
    env: &Env,
    host: &Client,
    op: &Client,
    addr: SocketAddr,
) {
    let opts = HostOptions { hostnqn: HOST_NQN.into(), ..HostOptions::default() };
    let mut c = HostController::connect(addr, NQN, &opts, 2).await.unwrap();
    let data = vec![0x5a; 4096];
    for i in 0..3 {
        assert!(c.io[1].write(1, 64 + i * 8, &data, 512).await.unwrap().cqe.status.is_success());
    }
    for i in 0..2 {
        assert!(c.io[0].read(1, 64 + i * 8, 8, 512).await.unwrap().cqe.status.is_success());
    }
    let stats =
        async || host.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
    // The first controller's connections close on their own time.
    wait_for("one live controller", async || stats().await.subsystems[0].live_controllers == 1)
        .await;
    // The service's connection gauges reach the public API: only this controller's three
    // connections stay open (the first's close on their own time too), all connected.
    wait_for("this controller's connections alone open", async || {
        let s = stats().await;
        (s.open_connections, s.unconnected_connections) == (3, 0)
    })
    .await;
    let s = stats().await.subsystems.remove(0);
    assert_eq!((s.name.as_str(), s.nqn.as_str()), ("subsystems/s1", NQN));
    // 2 queues of the first controller, 3 of this one.
    assert_eq!((s.connects_accepted, s.connects_refused), (5, 0));
    let io = s.io.unwrap();
    // Totals include the first controller's write and read.
    assert_eq!((io.writes, io.reads, io.errors), (4, 3, 0));
    assert_eq!((io.write_bytes, io.read_bytes), (4 * 4096, 3 * 4096));
    let ctrl = &s.controllers[0];
    assert_eq!(ctrl.name, format!("subsystems/s1/controllers/{}", c.cntlid));
    // The host role sees the counters, not the fabric hosts behind them.
    assert_eq!((ctrl.host_nqn.as_str(), ctrl.peer_address.as_str()), ("", ""));
    assert!(ctrl.queues.iter().all(|q| q.peer_address.is_empty()), "{ctrl:?}");
    let op_stats = op.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
    let op_ctrl = &op_stats.subsystems[0].controllers[0];
    assert_eq!(op_ctrl.host_nqn, HOST_NQN);
    assert!(op_ctrl.peer_address.starts_with("127.0.0.1:"), "{}", op_ctrl.peer_address);
    assert_eq!(op_ctrl.queues[0].peer_address, op_ctrl.peer_address);
    let qids: Vec<u32> = ctrl.queues.iter().map(|q| q.qid).collect();
    assert_eq!(qids, vec![0, 1, 2]);
    prometheus_nvmf_series(env);
    for q in &ctrl.queues {
        // The host asked for no digests (the listener would grant them).
        assert!(!q.header_digest && !q.data_digest);
        assert_eq!(q.in_flight, 0);
    }
    let (q1, q2) = (ctrl.queues[1].io.unwrap(), ctrl.queues[2].io.unwrap());
    // Each I/O queue: its Connect plus its own commands.
    assert_eq!((q1.commands, q1.reads, q1.writes, q1.read_bytes), (3, 2, 0, 2 * 4096));
    assert_eq!((q2.commands, q2.reads, q2.writes, q2.write_bytes), (4, 0, 3, 3 * 4096));
    assert_eq!(ctrl.queues[1].sq_size, 128);

    let table = ok(&dpuctl(env, Who::Host, &["nvmf", "stats"]));
    println!("dpuctl nvmf stats:\n{table}");
    let row = |prefix: &str| {
        table.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{table}"))
    };
    let cells: Vec<&str> = row("subsystems/s1 ").split_whitespace().collect();
    assert_eq!(
        cells[1..],
        ["1", "5", "0", io.commands.to_string().as_str(), "3", "4", "12288", "16384", "0"]
    );
    let queue_rows: Vec<&str> = table.lines().filter(|l| l.starts_with(&ctrl.name)).collect();
    assert_eq!(queue_rows.len(), 3, "{table}");
    // HOST and PEER columns are dashes for the host role.
    for r in &queue_rows {
        let cells: Vec<&str> = r.split_whitespace().collect();
        assert_eq!((cells[1], cells[3]), ("-", "-"), "{r}");
    }
    let json = ok(&dpuctl(env, Who::Host, &["nvmf", "stats", "-o", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let queue2 = &v["subsystems"][0]["controllers"][0]["queues"][2];
    assert_eq!(queue2["qid"], 2);
    // proto3 JSON writes 64-bit integers as strings.
    assert_eq!(queue2["io"]["writes"], "3");
    assert_eq!(queue2["sqSize"], 128);
    c.shutdown().await.unwrap();
}

/// The Prometheus endpoint shows the same counters: the agent reads the nvmf service's
/// statistics on each scrape. Three reads of 4 KiB and four writes so far, one controller.
fn prometheus_nvmf_series(env: &Env) {
    let text = http_get(env.metrics_port, "/metrics");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let value = |series: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(value("dpu_nvmf_stats_up"), 1);
    assert!(value("dpu_nvmf_connections_total") >= 5, "{text}");
    // Gauges of now: the controller's three connections, none waiting for its Connect.
    assert_eq!(value("dpu_nvmf_connections_open"), 3, "{text}");
    assert_eq!(value("dpu_nvmf_connections_unconnected"), 0, "{text}");
    assert!(text.contains("\n# TYPE dpu_nvmf_connections_open gauge\n"), "{text}");
    let ns = r#"{namespace="subsystems/s1/namespaces/1"}"#;
    assert!(value(&format!("dpu_nvmf_namespace_reads_total{ns}")) >= 3, "{text}");
    assert_eq!(value(&format!("dpu_nvmf_namespace_read_bytes_total{ns}")), 3 * 4096);
    assert_eq!(value(&format!("dpu_nvmf_namespace_write_bytes_total{ns}")), 4 * 4096);
    let sub = format!(r#"{{subsystem="subsystems/s1",nqn="{NQN}"}}"#);
    assert_eq!(value(&format!("dpu_nvmf_subsystem_live_controllers{sub}")), 1);
    assert_eq!(value(&format!("dpu_nvmf_subsystem_reads_total{sub}")), 3);
    assert_eq!(value(&format!("dpu_nvmf_subsystem_connects_accepted_total{sub}")), 5);
    // The agent's own series are still there.
    assert!(text.contains("\ndpud_service_up{service=\"nvmf\"} 1\n"), "{text}");
}

/// A discovery-only listener `disc` with a referral, made through the API: the discovery
/// log served on it lists the discovery subsystem at `disc` itself (SUBTYPE 3), s1 through
/// l1, then the referral (SUBTYPE 1, the discovery NQN, port 0 read as 8009). A masked update changes the referral in place (same connection);
/// an invalid one is refused naming the field and changes nothing. `disc` is deleted again.
async fn discovery_referrals(op: &Client) {
    use dpu_nvmf::initiator::HostQueue;
    use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
    let mut nvmf = op.nvmf();
    let port = free_port();
    let disc = |refs: &[(&str, u32)]| Listener {
        name: "listeners/disc".into(),
        spec: Some(ListenerSpec {
            discovery_only: true,
            referrals: refs.iter().map(|&(a, p)| Referral { address: a.into(), port: p }).collect(),
            ..tcp_listener(port).spec.unwrap()
        }),
        ..Default::default()
    };
    let create = |id: &str, refs| CreateListenerRequest {
        listener_id: id.into(),
        listener: Some(Listener { name: String::new(), ..disc(refs) }),
    };
    let created = nvmf.create_listener(create("disc", &[("192.0.2.20", 0)])).await.unwrap();
    let created = created.into_inner();
    // APPLIED: listening, with the referral set (the accept loop starts just before).
    wait_for("disc APPLIED", async || state(op).await.1).await;
    let mut d = None;
    wait_for("disc serving discovery", async || {
        let opts = HostOptions { hostnqn: HOST_NQN.into(), ..HostOptions::default() };
        d = HostQueue::open(SocketAddr::from(([127, 0, 0, 1], port)), &opts).await.ok();
        d.is_some()
    })
    .await;
    let mut d = d.unwrap();
    assert!(d.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap().cqe.status.is_success());
    d.property_set(0x14, 1).await.unwrap();
    // (SUBTYPE, TRADDR, TRSVCID, SUBNQN) of each entry of the discovery log page (70h).
    let entries = async |d: &mut HostQueue| {
        let log = d.get_log_page(0x70, 4 * 1024, 0).await.unwrap();
        let field = |e: &[u8]| String::from_utf8_lossy(e).trim_end_matches(['\0', ' ']).to_owned();
        let n = u64::from_le_bytes(log[8..16].try_into().unwrap()) as usize;
        let at = |e: &[u8]| (e[2], field(&e[512..768]), field(&e[32..64]), field(&e[256..512]));
        log.chunks(1024).skip(1).take(n).map(at).collect::<Vec<_>>()
    };
    let referral = |addr: &str, port: &str| (1, addr.into(), port.into(), DISCOVERY_NQN.into());
    let seen = entries(&mut d).await;
    assert_eq!(seen.len(), 3, "itself, s1 through l1, then the referral: {seen:?}");
    let itself = (3, "127.0.0.1".into(), port.to_string(), DISCOVERY_NQN.into());
    assert_eq!(seen[0], itself, "{seen:?}");
    assert_eq!((seen[1].0, seen[1].3.as_str()), (2, NQN), "{seen:?}");
    assert_eq!(seen[2], referral("192.0.2.20", "8009"));

    let update = |refs| UpdateListenerRequest {
        listener: Some(disc(refs)),
        update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec.referrals".into()] }),
        allow_missing: false,
    };
    let moved = nvmf.update_listener(update(&[("2001:db8::20", 4420)])).await.unwrap();
    assert_eq!(moved.into_inner().generation, created.generation + 1);
    let moved = vec![seen[0].clone(), seen[1].clone(), referral("2001:db8::20", "4420")];
    wait_for("the new referral on the same connection", async || entries(&mut d).await == moved)
        .await;

    let get = async || {
        let l = GetListenerRequest { name: "listeners/disc".into() };
        op.nvmf().get_listener(l).await.unwrap().into_inner()
    };
    let before = get().await;
    for (refused, field) in [
        (
            nvmf.update_listener(update(&[("192.0.2.20", 0), ("192.0.2.20", 8009)])).await,
            "listener.spec.referrals[1].address",
        ),
        (
            nvmf.create_listener(create("disc2", &[("0.0.0.0", 0)])).await,
            "listener.spec.referrals[0].address",
        ),
    ] {
        let e = refused.unwrap_err();
        assert_invalid(&e, field);
    }
    let after = get().await;
    assert_eq!((after.generation, after.spec), (before.generation, before.spec));
    assert_eq!(entries(&mut d).await, moved, "a refused change keeps the referral");
    drop(d);
    let delete = DeleteListenerRequest { name: "listeners/disc".into(), ..Default::default() };
    nvmf.delete_listener(delete).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_configures_a_target_the_host_reads_it_and_a_restart_reapplies() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let op = env.client(Who::Operator).await;
    let mut nvmf = op.nvmf();
    let port = free_port();

    let applying = Instant::now();
    create_target(&op, subsystem(NQN), port).await;
    let all = vec![
        "volumes/v1".to_owned(),
        "subsystems/s1".to_owned(),
        "subsystems/s1/namespaces/1".to_owned(),
        "listeners/l1".to_owned(),
    ];
    assert_eq!(state(&op).await, (all.clone(), true));
    println!("objects created and APPLIED in {:?}", applying.elapsed());

    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    write_and_read_back(addr, 1).await;

    // The host role reads (resources and stats) but cannot write.
    let host = env.client(Who::Host).await;
    let e = host
        .nvmf()
        .create_volume(CreateVolumeRequest {
            volume_id: "v2".into(),
            volume: Some(ram_volume(1 << 20)),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // Nor change or delete what exists.
    let update = UpdateSubsystemRequest {
        subsystem: Some(Subsystem {
            name: "subsystems/s1".into(),
            spec: Some(SubsystemSpec { allow_any_host: true, ..Default::default() }),
            ..Default::default()
        }),
        update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec.allow_any_host".into()] }),
        allow_missing: false,
    };
    let e = host.nvmf().update_subsystem(update).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let delete = DeleteVolumeRequest { name: "volumes/v1".into(), ..Default::default() };
    let e = host.nvmf().delete_volume(delete).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert_eq!(state(&host).await, (all.clone(), true));
    let stats = host.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
    assert!(stats.connections >= 2, "{stats:?}");
    let ns_stats = &stats.namespaces[0];
    assert_eq!(ns_stats.name, "subsystems/s1/namespaces/1");
    assert_eq!(ns_stats.counters.unwrap().writes, 1);
    subsystem_controller_and_queue_stats(&env, &host, &op, addr).await;

    // Invalid input is refused before anything is stored.
    let bad_nqn = nvmf
        .create_subsystem(CreateSubsystemRequest {
            subsystem_id: "s2".into(),
            subsystem: Some(subsystem("iqn.2024-01.not-nvme")),
        })
        .await
        .unwrap_err();
    assert_invalid(&bad_nqn, "subsystem.spec.nqn");
    let long_serial = nvmf
        .update_subsystem(UpdateSubsystemRequest {
            subsystem: Some(Subsystem {
                name: "subsystems/s1".into(),
                spec: Some(SubsystemSpec { serial_number: "X".repeat(21), ..Default::default() }),
                ..Default::default()
            }),
            update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec.serial_number".into()] }),
            allow_missing: false,
        })
        .await
        .unwrap_err();
    assert_eq!(violation_field(&long_serial), "subsystem.spec.serial_number");
    let nsid0 = nvmf
        .create_namespace(CreateNamespaceRequest {
            parent: "subsystems/s1".into(),
            namespace_id: "0".into(),
            namespace: Some(namespace("volumes/v1")),
        })
        .await
        .unwrap_err();
    assert_invalid(&nsid0, "namespace_id");
    let no_backend = nvmf
        .create_volume(CreateVolumeRequest {
            volume_id: "v2".into(),
            volume: Some(Volume { spec: Some(VolumeSpec::default()), ..Default::default() }),
        })
        .await
        .unwrap_err();
    assert_invalid(&no_backend, "volume.spec.backend");
    let odd_size = nvmf
        .create_volume(CreateVolumeRequest {
            volume_id: "v2".into(),
            volume: Some(ram_volume(1000)),
        })
        .await
        .unwrap_err();
    assert_eq!(violation_field(&odd_size), "volume.spec.ram.size_bytes");
    let bad_port = nvmf
        .create_listener(CreateListenerRequest {
            listener_id: "l2".into(),
            listener: Some(Listener {
                spec: Some(ListenerSpec {
                    address: "127.0.0.1".into(),
                    port: 70000,
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(violation_field(&bad_port), "listener.spec.port");
    let l1_ana = |group: u32, state: AnaState| UpdateListenerRequest {
        listener: Some(Listener {
            name: "listeners/l1".into(),
            spec: Some(ListenerSpec {
                ana_groups: vec![AnaGroupState {
                    group,
                    state: state.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }),
        update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec.ana_groups".into()] }),
        allow_missing: false,
    };
    for (group, state, field) in [
        (0, AnaState::Inaccessible, "listener.spec.ana_groups[0].group"),
        (129, AnaState::Inaccessible, "listener.spec.ana_groups[0].group"),
        (1, AnaState::Unspecified, "listener.spec.ana_groups[0].state"),
    ] {
        let e = nvmf.update_listener(l1_ana(group, state)).await.unwrap_err();
        assert_invalid(&e, field);
    }
    let bad_group = nvmf
        .create_namespace(CreateNamespaceRequest {
            parent: "subsystems/s1".into(),
            namespace_id: "2".into(),
            namespace: Some(Namespace {
                spec: Some(NamespaceSpec {
                    ana_group: 200,
                    ..namespace("volumes/v1").spec.unwrap()
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(violation_field(&bad_group), "namespace.spec.ana_group");
    // Listener l1 shows the namespace's group inaccessible: a host's I/O through it fails
    // with the path error; back to optimized, it serves again.
    let updated = nvmf.update_listener(l1_ana(1, AnaState::Inaccessible)).await.unwrap();
    assert_eq!(updated.into_inner().spec.unwrap().ana_groups.len(), 1);
    wait_for("l1 APPLIED with its ANA state", async || state(&op).await == (all.clone(), true))
        .await;
    let mut c = connect_host(addr).await.unwrap();
    let read = c.io[0].read(1, 0, 1, 512).await.unwrap();
    assert_eq!(read.cqe.status, dpu_nvmf_proto::Status::ANA_INACCESSIBLE, "{:?}", read.cqe);
    let table = ok(&dpuctl(&env, Who::Host, &["list", "listeners"]));
    let row = table.lines().find(|l| l.starts_with("listeners/l1")).unwrap_or_default();
    assert!(row.split_whitespace().any(|c| c == "1=inaccessible"), "{table}");
    nvmf.update_listener(l1_ana(1, AnaState::Optimized)).await.unwrap();
    wait_for("I/O through l1 again", async || {
        c.io[0].read(1, 0, 1, 512).await.is_ok_and(|r| r.cqe.status.is_success())
    })
    .await;
    discovery_referrals(&op).await;
    // The host takes a Write Exclusive reservation (register key 7, acquire): the operator
    // sees its type, registrants and holder in the live stats, the host role not the holder.
    let resv = async |c: &mut HostController, op: u8, cdw10: u32, keys: &[u64]| {
        c.io[0].reservation(op, 1, cdw10, keys).await.unwrap().cqe.status
    };
    use dpu_nvmf_proto::sqe::io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER};
    assert!(resv(&mut c, RESERVATION_REGISTER, 0, &[0, 7]).await.is_success());
    assert!(resv(&mut c, RESERVATION_ACQUIRE, 1 << 8, &[7, 0]).await.is_success());
    let reservation = async |client: &Client| {
        let stats = client.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap();
        stats.into_inner().namespaces[0].reservation.clone().unwrap()
    };
    let seen = reservation(&op).await;
    // HostOptions' default Host Identifier, 16 bytes of 0x11, in UUID form.
    assert_eq!(HostOptions::default().hostid, [0x11; 16]);
    let holder = "11111111-1111-1111-1111-111111111111".to_owned();
    assert_eq!(
        (seen.r#type, seen.registrants, seen.holder_host_id.as_str()),
        (ReservationType::WriteExclusive as i32, 1, holder.as_str())
    );
    assert!(!seen.persist_through_power_loss, "registered without CPTPL");
    let host_view = reservation(&env.client(Who::Host).await).await;
    assert!(host_view.holder_host_id.is_empty() && host_view.registrants == 1, "{host_view:?}");
    let table = ok(&dpuctl(&env, Who::Operator, &["nvmf", "stats"]));
    assert!(table.contains("write-exclusive") && table.contains(&holder), "{table}");
    let row = table.lines().find(|l| l.contains(&holder)).unwrap_or_default();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 2..], ["no", "no"], "PERSISTS, HOST_WP: {table}");
    // Unregistering (key 7) releases it.
    assert!(resv(&mut c, RESERVATION_REGISTER, 1, &[7, 0]).await.is_success());
    assert_eq!(reservation(&op).await.r#type, 0);
    // The host write-protects the namespace (Feature 84h): the live stats and `dpuctl
    // nvmf stats` (HOST_WP) show it until the host lifts it, and Write Protect Until Power
    // Cycle as such.
    let host_protects = async |c: &mut HostController, wps: u32| {
        use dpu_nvmf_proto::sqe::{Sqe, admin_opcode::SET_FEATURES};
        let mut sqe = Sqe::new(SET_FEATURES, 0);
        sqe.nsid = 1;
        sqe.cdw[0] = 0x84;
        sqe.cdw[1] = wps;
        c.admin.submit_ok(sqe, None, 0).await.unwrap();
    };
    let host_wp = async || {
        let stats = op.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap();
        let ns = &stats.into_inner().namespaces[0];
        (ns.host_write_protected, ns.host_write_protection)
    };
    let host_wp_cell = || {
        let table = ok(&dpuctl(&env, Who::Operator, &["nvmf", "stats"]));
        let row = table.lines().find(|l| l.starts_with("subsystems/s1/namespaces/1")).unwrap();
        row.split_whitespace().last().unwrap().to_owned()
    };
    host_protects(&mut c, 1).await;
    assert_eq!(host_wp().await, (true, 1));
    assert_eq!(host_wp_cell(), "yes", "HOST_WP");
    let write = c.io[0].write(1, 0, &[1; 512], 512).await.unwrap();
    assert_eq!(write.cqe.status, NvmeStatus::NAMESPACE_WRITE_PROTECTED.with_dnr());
    host_protects(&mut c, 0).await;
    assert_eq!(host_wp().await, (false, 0));
    assert_eq!(host_wp_cell(), "no", "HOST_WP");
    host_protects(&mut c, 2).await;
    assert_eq!(host_wp().await, (true, 2));
    assert_eq!(host_wp_cell(), "until-restart", "HOST_WP");
    // No host can leave Until Power Cycle; the operator can (ClearHostWriteProtection),
    // the host role cannot, and a namespace the agent does not hold is NOT_FOUND.
    let clear = |name: &str| ClearHostWriteProtectionRequest { name: name.into() };
    let host = env.client(Who::Host).await;
    let denied = host.nvmf().clear_host_write_protection(clear(NS1)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert_eq!(host_wp().await, (true, 2), "the host role changed nothing");
    let missing = clear("subsystems/s1/namespaces/9");
    let missing = op.nvmf().clear_host_write_protection(missing).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    let out = ok(&dpuctl(&env, Who::Operator, &["nvmf", "clear-host-write-protection", NS1]));
    assert_eq!(out.trim(), format!("{NS1}: host write protection cleared (was: until-restart)"));
    assert_eq!(host_wp().await, (false, 0));
    let write = c.io[0].write(1, 0, &[1; 512], 512).await.unwrap();
    assert!(write.cqe.status.is_success(), "writable again: {:?}", write.cqe);
    // Write Protect is kept in the service's state directory until the operator lifts it
    // too; then its file goes, so a restart does not bring it back.
    let state_files = || {
        let dir = env.path("nvmf-state/namespaces");
        std::fs::read_dir(dir).map_or(0, |d| d.filter_map(Result::ok).count())
    };
    host_protects(&mut c, 1).await;
    assert_eq!(state_files(), 1, "Write Protect saved");
    let previous = op.nvmf().clear_host_write_protection(clear(NS1)).await.unwrap().into_inner();
    assert_eq!(previous.previous, HostWriteProtection::WriteProtect as i32);
    assert_eq!((host_wp().await, state_files()), ((false, 0), 0), "lifted and forgotten");
    let again = op.nvmf().clear_host_write_protection(clear(NS1)).await.unwrap().into_inner();
    assert_eq!(again.previous, HostWriteProtection::Unspecified as i32, "nothing to lift");
    // dpuctl takes the namespace by its name under the subsystem, as `get` and `delete` do.
    let args = ["nvmf", "clear-host-write-protection", "s1/namespaces/1"];
    let out = ok(&dpuctl(&env, Who::Operator, &args));
    assert_eq!(out.trim(), format!("{NS1}: host write protection cleared (was: no)"));
    // What the RAM volume takes of the card: the one 2 MiB chunk its writes so far mapped
    // (all in its first 2 MiB).
    let stats = op.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
    let v1 = stats.volumes.iter().find(|v| v.name == "volumes/v1").unwrap();
    assert_eq!((v1.size_bytes, v1.allocated_bytes), (16 << 20, Some(2 << 20)));
    let timed = [&v1.read_latency, &v1.write_latency, &v1.flush_latency];
    assert!(timed.iter().all(|h| h.is_none()), "a RAM volume has no device latency: {v1:?}");
    let table = ok(&dpuctl(&env, Who::Operator, &["nvmf", "stats"]));
    // A RAM volume has no device latency: "-" for reads, writes and flushes.
    let row = ["volumes/v1", "16777216", "2097152", "-", "-", "-"];
    assert!(table.lines().any(|l| l.split_whitespace().eq(row)), "VOLUME: {table}");
    drop(c);
    let missing_volume = nvmf
        .create_namespace(CreateNamespaceRequest {
            parent: "subsystems/s1".into(),
            namespace_id: "2".into(),
            namespace: Some(namespace("volumes/nope")),
        })
        .await
        .unwrap_err();
    assert_eq!(missing_volume.code(), Code::FailedPrecondition, "{missing_volume:?}");
    let missing_parent = nvmf
        .create_namespace(CreateNamespaceRequest {
            parent: "subsystems/nope".into(),
            namespace_id: "1".into(),
            namespace: Some(namespace("volumes/v1")),
        })
        .await
        .unwrap_err();
    assert_eq!(missing_parent.code(), Code::FailedPrecondition);
    let used_volume = nvmf
        .delete_volume(DeleteVolumeRequest { name: "volumes/v1".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(used_volume.code(), Code::FailedPrecondition);
    assert!(used_volume.message().contains("subsystems/s1/namespaces/1"), "{used_volume:?}");
    let used_subsystem = nvmf
        .delete_subsystem(DeleteSubsystemRequest {
            name: "subsystems/s1".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(used_subsystem.code(), Code::FailedPrecondition);
    let shrink = nvmf
        .update_volume(UpdateVolumeRequest {
            volume: Some(Volume { name: "volumes/v1".into(), ..ram_volume(8 << 20) }),
            update_mask: None,
            allow_missing: false,
        })
        .await
        .unwrap_err();
    assert_eq!(shrink.code(), Code::FailedPrecondition, "{shrink:?}");
    assert!(shrink.message().contains("only grow"), "{shrink:?}");
    // The service could serve only one of two subsystems with one NQN, or two listeners on
    // one address: a second is refused, naming the first.
    let same_nqn = nvmf
        .create_subsystem(CreateSubsystemRequest {
            subsystem_id: "s2".into(),
            subsystem: Some(subsystem(NQN)),
        })
        .await
        .unwrap_err();
    assert_eq!(same_nqn.code(), Code::FailedPrecondition, "{same_nqn:?}");
    assert!(same_nqn.message().contains("subsystems/s1"), "{same_nqn:?}");
    let mut any_address = tcp_listener(port);
    any_address.spec.as_mut().unwrap().address = "0.0.0.0".into();
    let same_port = nvmf
        .create_listener(CreateListenerRequest {
            listener_id: "l2".into(),
            listener: Some(any_address),
        })
        .await
        .unwrap_err();
    assert_eq!(same_port.code(), Code::FailedPrecondition, "{same_port:?}");
    assert!(same_port.message().contains("listeners/l1"), "{same_port:?}");
    let l1 = nvmf
        .update_listener(UpdateListenerRequest {
            listener: Some(Listener { name: "listeners/l1".into(), ..tcp_listener(port) }),
            update_mask: None,
            allow_missing: false,
        })
        .await;
    assert!(l1.is_ok(), "a listener keeps its own address: {l1:?}");
    wait_for("l1 APPLIED again", async || state(&op).await.1).await;
    assert_eq!(state(&op).await, (all.clone(), true), "a refused request changed something");

    // A partial update merges the masked field only; a stale etag is refused.
    let before = nvmf
        .get_subsystem(GetSubsystemRequest { name: "subsystems/s1".into() })
        .await
        .unwrap()
        .into_inner();
    let other_host = "nqn.2014-08.org.example:another-host";
    let updated = nvmf
        .update_subsystem(UpdateSubsystemRequest {
            subsystem: Some(Subsystem {
                name: "subsystems/s1".into(),
                etag: before.etag.clone(),
                spec: Some(SubsystemSpec {
                    allowed_hosts: vec![HOST_NQN.into(), other_host.into()],
                    ..Default::default()
                }),
                ..Default::default()
            }),
            update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec.allowed_hosts".into()] }),
            allow_missing: false,
        })
        .await
        .unwrap()
        .into_inner();
    let spec = updated.spec.unwrap();
    assert_eq!((spec.nqn.as_str(), spec.allowed_hosts.len()), (NQN, 2));
    assert_eq!(updated.generation, before.generation + 1);
    let stale = nvmf
        .update_subsystem(UpdateSubsystemRequest {
            subsystem: Some(Subsystem {
                name: "subsystems/s1".into(),
                etag: before.etag,
                ..subsystem(NQN)
            }),
            update_mask: None,
            allow_missing: false,
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let missing = nvmf
        .update_subsystem(UpdateSubsystemRequest {
            subsystem: Some(Subsystem { name: "subsystems/nope".into(), ..subsystem(NQN) }),
            update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec.serial_number".into()] }),
            allow_missing: false,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let in_s1 = nvmf
        .list_namespaces(ListNamespacesRequest {
            parent: "subsystems/s1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(in_s1.namespaces.len(), 1);
    // A name that is a prefix of s1's is another parent, one that does not exist.
    let in_other = nvmf
        .list_namespaces(ListNamespacesRequest {
            parent: "subsystems/s".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(in_other.code(), Code::NotFound, "{in_other:?}");
    wait_for("the update APPLIED", async || state(&op).await == (all.clone(), true)).await;

    // The volume grows from 16 to 32 MiB in place: its new blocks are there, the data the
    // host wrote stays (the service grows it, it does not reopen it).
    let grown = nvmf
        .update_volume(UpdateVolumeRequest {
            volume: Some(Volume { name: "volumes/v1".into(), ..ram_volume(32 << 20) }),
            update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec.ram".into()] }),
            allow_missing: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(grown.generation, 2);
    let blocks = async || {
        let v = nvmf.clone().get_volume(GetVolumeRequest { name: "volumes/v1".into() }).await;
        v.unwrap().into_inner().status.map_or(0, |s| s.block_count)
    };
    wait_for("the grown volume APPLIED", async || {
        state(&op).await == (all.clone(), true) && blocks().await == 65536
    })
    .await;
    let mut c = connect_host(addr).await.unwrap();
    let id_ns = c.admin.identify(0, 1).await.unwrap();
    assert_eq!(u64::from_le_bytes(id_ns[0..8].try_into().unwrap()), 65536, "NSZE");
    let kept = c.io[0].read(1, 8, 8, 512).await.unwrap();
    assert!(kept.cqe.status.is_success() && kept.data[0] == 1, "{:?}", kept.cqe);
    let last = c.io[0].read(1, 65535, 1, 512).await.unwrap();
    assert!(last.cqe.status.is_success(), "{:?}", last.cqe);
    c.shutdown().await.unwrap();
    // Namespace 2 on a file volume, whose data outlives the service (v1's, in RAM, does not).
    let file = Volume {
        spec: Some(VolumeSpec {
            backend: Some(Backend::File(FileBackend {
                path: env.path("v2.img").display().to_string(),
                size_bytes: 1 << 20,
            })),
            ..Default::default()
        }),
        ..Default::default()
    };
    create_namespace_2(&op, file).await;
    let all: Vec<String> = ["volumes/v1", "volumes/v2", "subsystems/s1", NS1, NS2, "listeners/l1"]
        .map(String::from)
        .into();
    wait_for("v2 and namespace 2 APPLIED", async || state(&op).await == (all.clone(), true)).await;
    let mut c = connect_host(addr).await.unwrap();
    let on_2 = c.io[0].write(2, 8, &[2; 512], 512).await.unwrap();
    assert!(on_2.cqe.status.is_success(), "{:?}", on_2.cqe);
    // The host asks that its reservations persist through power loss (Register with
    // CPTPL 11b, as a Linux host always does): they are to outlive the service below,
    // with the data they guard.
    for nsid in [1, 2] {
        let register = c.io[0].reservation(RESERVATION_REGISTER, nsid, 3 << 30, &[0, 7]).await;
        assert!(register.unwrap().cqe.status.is_success());
        let acquire = c.io[0].reservation(RESERVATION_ACQUIRE, nsid, 1 << 8, &[7, 0]).await;
        assert!(acquire.unwrap().cqe.status.is_success());
    }
    c.shutdown().await.unwrap();
    let ids = async || {
        let list = op.nvmf().list_namespaces(ListNamespacesRequest::default()).await.unwrap();
        let ns = list.into_inner().namespaces;
        ns.into_iter().map(|n| n.status.map(|s| (s.nguid, s.uuid)).unwrap()).collect::<Vec<_>>()
    };
    let before = ids().await;

    // Kill the service: the agent starts a new one and applies everything again.
    let first = service_pid("dpu-nvmf", &env.nvmf_socket()).expect("dpu-nvmf running");
    let killed = Instant::now();
    kill_service("dpu-nvmf", &env.nvmf_socket()).unwrap();
    wait_for("a new dpu-nvmf", async || {
        service_pid("dpu-nvmf", &env.nvmf_socket()).is_some_and(|p| p != first)
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if connect_host(addr).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the target did not come back; log:\n{}", env.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("the target served again {:?} after the kill", killed.elapsed());
    wait_for("everything APPLIED again", async || state(&op).await == (all.clone(), true)).await;
    // Namespace 2's reservation came back with it (from --state-dir), under the same
    // IDs, with its data: the operator sees it, another host may not write, the holder
    // writes.
    let after = ids().await;
    assert_eq!(after[1], before[1], "the file volume's namespace kept its IDs");
    let stats = op.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
    let seen = stats.namespaces[1].reservation.clone().unwrap();
    assert_eq!(stats.namespaces[1].name, NS2);
    assert_eq!(
        (seen.r#type, seen.registrants, seen.holder_host_id.as_str()),
        (ReservationType::WriteExclusive as i32, 1, holder.as_str())
    );
    assert!(seen.persist_through_power_loss);
    let other =
        HostOptions { hostnqn: HOST_NQN.into(), hostid: [0x22; 16], ..HostOptions::default() };
    let mut o = HostController::connect(addr, NQN, &other, 1).await.unwrap();
    let w = o.io[0].write(2, 8, &[0u8; 512], 512).await.unwrap();
    assert_eq!(w.cqe.status, NvmeStatus::RESERVATION_CONFLICT.with_dnr(), "{:?}", w.cqe);
    // Namespace 1's RAM volume came back empty: under new IDs (a host reconnecting drops
    // the disk it knew rather than read zeros under its identity), its reservation not
    // restored to the data it guarded, which is gone.
    let (was, is) = (&before[0], &after[0]);
    assert!(was.0 != is.0 && was.1 != is.1, "the RAM namespace kept its IDs: {was:?}");
    assert_eq!(reservation(&op).await.registrants, 0, "the RAM namespace's reservation");
    let gone = o.io[0].read(1, 8, 1, 512).await.unwrap();
    assert_eq!(gone.data[..], [0; 512], "{:?}", gone.cqe);
    let kept = o.io[0].read(2, 8, 1, 512).await.unwrap();
    assert_eq!(kept.data[..], [2; 512], "{:?}", kept.cqe);
    o.shutdown().await.unwrap();
    write_and_read_back(addr, 2).await;
    assert_eq!(state(&op).await, (all.clone(), true));

    // v2's file is gone when the service starts again (its file system not mounted yet,
    // say): the volume is FAILED naming it, and no empty file takes its place; once the
    // file is back, the agent's next try serves it, data and IDs as they were.
    let (image, away) = (env.path("v2.img"), env.path("v2.away"));
    std::fs::rename(&image, &away).unwrap();
    let second = service_pid("dpu-nvmf", &env.nvmf_socket()).expect("dpu-nvmf running");
    kill_service("dpu-nvmf", &env.nvmf_socket()).unwrap();
    let v2_message = async || {
        let v2 = op.nvmf().get_volume(GetVolumeRequest { name: "volumes/v2".into() }).await;
        let status = v2.unwrap().into_inner().status.unwrap_or_default();
        status.apply.map(|a| a.message).unwrap_or_default()
    };
    wait_for("v2 FAILED, its file missing", async || {
        service_pid("dpu-nvmf", &env.nvmf_socket()).is_some_and(|p| p != second)
            && v2_message().await.contains("is missing; it held the volume's data")
    })
    .await;
    assert!(!image.exists(), "an empty file took the volume's place");
    std::fs::rename(&away, &image).unwrap();
    wait_for("v2 served again", async || state(&op).await == (all.clone(), true)).await;
    assert_eq!(ids().await[1], before[1]);
    let mut c = connect_host(addr).await.unwrap();
    let back = c.io[0].read(2, 8, 1, 512).await.unwrap();
    assert_eq!(back.data[..], [2; 512], "{:?}", back.cqe);
    c.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn dpuctl_applies_all_four_kinds_idempotently() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let port = free_port();
    let manifest = env.path("nvmf.yaml");
    std::fs::write(
        &manifest,
        format!(
            r#"kind: Volume
name: v1
spec:
  ram: {{sizeBytes: "8388608"}}
  blockSize: 512
---
kind: Subsystem
name: s1
spec:
  nqn: {NQN}
  serialNumber: DPUD0001
  allowedHosts: [{HOST_NQN}]
---
kind: Namespace
name: s1/namespaces/1
spec:
  volume: volumes/v1
---
kind: Listener
name: l1
spec: {{trtype: TRANSPORT_TYPE_TCP, address: 127.0.0.1, port: {port}}}
"#
        ),
    )
    .unwrap();
    let m = manifest.to_str().unwrap();
    let first = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert_eq!(
        first,
        "volumes/v1 created\nsubsystems/s1 created\nsubsystems/s1/namespaces/1 created\nlisteners/l1 created\n"
    );
    let second = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert_eq!(second.lines().filter(|l| l.ends_with(" unchanged")).count(), 4, "{second}");
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m])), "");
    // The volume's block size left out, i.e. 0, which means 512 for a RAM volume: the
    // agent keeps its spelling, so diff shows nothing and apply changes nothing.
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("  blockSize: 512\n", "")).unwrap();
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m])), "");
    let respelled = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert_eq!(respelled.lines().filter(|l| l.ends_with(" unchanged")).count(), 4, "{respelled}");
    // Likewise the listener's transport left out (unset means TCP).
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("trtype: TRANSPORT_TYPE_TCP, ", "")).unwrap();
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m])), "");
    let respelled = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert_eq!(respelled.lines().filter(|l| l.ends_with(" unchanged")).count(), 4, "{respelled}");

    let op = env.client(Who::Operator).await;
    wait_for("every object APPLIED", async || state(&op).await.1).await;
    write_and_read_back(format!("127.0.0.1:{port}").parse().unwrap(), 3).await;

    // The host reads with dpuctl: tables per kind, YAML in the proto3 JSON mapping.
    let table = ok(&dpuctl(&env, Who::Host, &["list", "namespaces"]));
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("subsystems/s1/namespaces/1") && table.contains("APPLIED"), "{table}");
    let yaml = ok(&dpuctl(&env, Who::Host, &["get", "subsystem", "s1", "-o", "yaml"]));
    assert!(yaml.contains(NQN), "{yaml}");
    let listeners = ok(&dpuctl(&env, Who::Host, &["list", "listeners"]));
    assert!(listeners.contains(&port.to_string()), "{listeners}");

    // Change the volume size: diff shows it, apply configures only that object.
    std::fs::write(
        &manifest,
        std::fs::read_to_string(&manifest).unwrap().replace("8388608", "16777216"),
    )
    .unwrap();
    let diff = dpuctl(&env, Who::Operator, &["diff", "-f", m]);
    assert_eq!(diff.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&diff.stdout).starts_with("~ volumes/v1: spec.ram "));
    let third = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert!(
        third.contains("volumes/v1 configured") && third.contains("listeners/l1 unchanged"),
        "{third}"
    );
    // A rate limit on the volume, applied in place: the table shows it.
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"16777216\"}", "\"16777216\"}\n  maxIops: \"5000\""))
        .unwrap();
    let limited = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert!(limited.contains("volumes/v1 configured"), "{limited}");
    wait_for("the limit APPLIED", async || state(&op).await.1).await;
    let volumes = ok(&dpuctl(&env, Who::Host, &["list", "volumes"]));
    assert!(volumes.contains("5000iops"), "{volumes}");

    // ANA in manifests: the namespace moves to group 2, which listener l1 shows
    // non-optimized; both change in place and the host keeps doing I/O. l1 also refers
    // hosts to another discovery service (port 0: 8009), which the table shows.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text =
        text.replace("  volume: volumes/v1\n", "  volume: volumes/v1\n  anaGroup: 2\n").replace(
            &format!("port: {port}}}"),
            &format!(
                "port: {port}, anaGroups: [{{group: 2, state: ANA_STATE_NON_OPTIMIZED}}], \
                 referrals: [{{address: 192.0.2.20}}]}}"
            ),
        );
    std::fs::write(&manifest, text).unwrap();
    let fourth = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert!(
        fourth.contains("subsystems/s1/namespaces/1 configured")
            && fourth.contains("listeners/l1 configured"),
        "{fourth}"
    );
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m])), "");
    wait_for("ANA changes APPLIED", async || state(&op).await.1).await;
    let listeners = ok(&dpuctl(&env, Who::Host, &["list", "listeners"]));
    assert!(listeners.contains("2=non-optimized"), "{listeners}");
    assert!(listeners.contains(" 192.0.2.20:8009 "), "REFERRALS: {listeners}");
    let namespaces = ok(&dpuctl(&env, Who::Host, &["list", "namespaces"]));
    let row = namespaces.lines().find(|l| l.starts_with("subsystems/s1/namespaces/1")).unwrap();
    assert_eq!(row.split_whitespace().nth(2), Some("2"), "ANA_GROUP: {namespaces}");
    write_and_read_back(format!("127.0.0.1:{port}").parse().unwrap(), 4).await;

    // A read-only namespace in the manifest: write protected in place, so the host's
    // writes fail with Namespace Is Write Protected and its reads still work.
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("  anaGroup: 2\n", "  anaGroup: 2\n  readOnly: true\n"))
        .unwrap();
    let fifth = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert!(fifth.contains("subsystems/s1/namespaces/1 configured"), "{fifth}");
    wait_for("read-only APPLIED", async || state(&op).await.1).await;
    let namespaces = ok(&dpuctl(&env, Who::Host, &["list", "namespaces"]));
    let row = namespaces.lines().find(|l| l.starts_with("subsystems/s1/namespaces/1")).unwrap();
    assert_eq!(row.split_whitespace().nth(3), Some("read-only"), "ACCESS: {namespaces}");
    write_protected(format!("127.0.0.1:{port}").parse().unwrap()).await;

    // The namespace for another host only (allowedHosts), in place: the other allowed host
    // of the subsystem no longer sees it. The subsystem lets that host in by the same
    // apply (subsystems go before their namespaces); a namespace naming a host its
    // subsystem does not let in is refused. A malformed host NQN is refused, naming the
    // field.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let masked = text.replace(
        "  readOnly: true\n",
        "  readOnly: true\n  allowedHosts: [nqn.2014-08.org.example:someone-else]\n",
    );
    std::fs::write(&manifest, &masked).unwrap();
    let typo = dpuctl(&env, Who::Operator, &["apply", "-f", m]);
    assert_eq!(typo.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(stderr.contains("FAILED_PRECONDITION"), "{stderr}");
    assert!(stderr.contains("namespace.spec.allowed_hosts[0]"), "{stderr}");
    let masked = masked.replace(
        &format!("  allowedHosts: [{HOST_NQN}]\n"),
        &format!("  allowedHosts: [{HOST_NQN}, nqn.2014-08.org.example:someone-else]\n"),
    );
    std::fs::write(&manifest, &masked).unwrap();
    let sixth = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert!(sixth.contains("subsystems/s1/namespaces/1 configured"), "{sixth}");
    wait_for("allowedHosts APPLIED", async || state(&op).await.1).await;
    let namespaces = ok(&dpuctl(&env, Who::Host, &["list", "namespaces"]));
    let row = namespaces.lines().find(|l| l.starts_with("subsystems/s1/namespaces/1")).unwrap();
    assert_eq!(row.split_whitespace().nth(4), Some("1"), "HOSTS: {namespaces}");
    let opts = HostOptions { hostnqn: HOST_NQN.into(), ..HostOptions::default() };
    let mut c =
        HostController::connect(format!("127.0.0.1:{port}").parse().unwrap(), NQN, &opts, 1)
            .await
            .unwrap();
    let active = c.admin.identify(2, 0).await.unwrap();
    assert_eq!(&active[0..4], &[0; 4], "no active namespace for this host");
    let r = c.io[0].read(1, 0, 1, 512).await.unwrap();
    assert_eq!(r.cqe.status, NvmeStatus::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    c.shutdown().await.unwrap();
    let bad = masked.replace(
        "  readOnly: true\n  allowedHosts: [nqn.2014-08.org.example:someone-else]\n",
        "  readOnly: true\n  allowedHosts: [nqn.2014-08.org.example:someone-else, not-an-nqn]\n",
    );
    std::fs::write(&manifest, bad).unwrap();
    let bad = dpuctl(&env, Who::Operator, &["apply", "-f", m]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("spec.allowed_hosts[1]"), "{stderr}");

    // Delete in dependency order; the volume in use is refused first.
    let refused = dpuctl(&env, Who::Operator, &["delete", "volume", "v1"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("FAILED_PRECONDITION"));
    for (kind, name) in [
        ("namespace", "s1/namespaces/1"),
        ("volume", "v1"),
        ("subsystem", "s1"),
        ("listener", "l1"),
    ] {
        ok(&dpuctl(&env, Who::Operator, &["delete", kind, name]));
    }
    assert_eq!(state(&op).await, (Vec::new(), true));
}

/// A block-device volume on a loop device with 4 KiB sectors: with the block size unset
/// it takes the device's (status and `dpuctl list volumes` show 4096); asking for 512
/// fails that volume alone, with the reason in its status.
#[tokio::test(flavor = "multi_thread")]
async fn block_device_volumes_take_the_device_block_size_or_say_why_not() {
    // Dropped in reverse: the service stops before the device is detached.
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("device.img");
    std::fs::File::create(&image).unwrap().set_len(8 << 20).unwrap();
    let device = dpu_lab::loopdev::LoopDevice::attach(&image, 4096).unwrap();
    // Another device of the same kind: no two volumes may be on one.
    let other_image = dir.path().join("other.img");
    std::fs::File::create(&other_image).unwrap().set_len(8 << 20).unwrap();
    let other = dpu_lab::loopdev::LoopDevice::attach(&other_image, 4096).unwrap();
    let mut env = Env::with_nvmf();
    env.start().await;
    let manifest = env.path("volumes.yaml");
    let (path, other_path) = (device.path().display(), other.path().display());
    std::fs::write(
        &manifest,
        format!(
            "kind: Volume\nname: native\nspec:\n  blockDevice: {{path: {path}}}\n---\n\
             kind: Volume\nname: small\nspec:\n  blockDevice: {{path: {other_path}}}\n  blockSize: 512\n"
        ),
    )
    .unwrap();
    ok(&dpuctl(&env, Who::Operator, &["apply", "-f", manifest.to_str().unwrap()]));

    let op = env.client(Who::Operator).await;
    let settled = async || {
        let list = op.nvmf().list_volumes(ListVolumesRequest::default()).await.unwrap();
        let volumes = list.into_inner().volumes;
        let settled_states = [ApplyState::Applied as i32, ApplyState::Failed as i32];
        let done = volumes.iter().all(|v| {
            let apply = v.status.as_ref().and_then(|s| s.apply.as_ref());
            apply.is_some_and(|a| settled_states.contains(&a.state))
        });
        done.then_some(volumes)
    };
    let mut volumes = None;
    wait_for("both volumes applied or failed", async || {
        volumes = settled().await;
        volumes.is_some()
    })
    .await;
    let volumes = volumes.unwrap();
    let status = |name: &str| {
        volumes.iter().find(|v| v.name == name).and_then(|v| v.status.clone()).unwrap()
    };
    let native = status("volumes/native");
    assert!(is_applied(native.apply.as_ref()), "{native:?}");
    assert_eq!((native.size_bytes, native.block_count), (8 << 20, 2048));
    let small = status("volumes/small");
    let apply = small.apply.unwrap();
    assert_eq!(apply.state, ApplyState::Failed as i32, "{apply:?}");
    assert!(apply.message.contains("below the logical block size 4096"), "{apply:?}");

    let table = ok(&dpuctl(&env, Who::Host, &["list", "volumes"]));
    let row = table.lines().find(|l| l.starts_with("volumes/native")).unwrap_or_default();
    assert!(row.split_whitespace().any(|c| c == "4096"), "{table}");
    // A device volume's operation times are there from the start (no operation yet).
    let stats = op.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
    let native = stats.volumes.iter().find(|v| v.name == "volumes/native").unwrap();
    let timed = [&native.read_latency, &native.write_latency, &native.flush_latency];
    assert!(timed.iter().all(|h| h.is_some()), "{native:?}");

    // The device grows under the service (`lvextend`, say): the stored status follows
    // without any API call, through the service's status epoch and the agent's re-sync.
    std::fs::OpenOptions::new().write(true).open(&image).unwrap().set_len(24 << 20).unwrap();
    device.refresh_capacity().unwrap();
    let grown = std::time::Instant::now();
    wait_for("the agent's status of the grown device", async || {
        let v = op.nvmf().get_volume(GetVolumeRequest { name: "volumes/native".into() }).await;
        let status = v.unwrap().into_inner().status.unwrap_or_default();
        (status.size_bytes, status.block_count) == (24 << 20, 6144)
    })
    .await;
    eprintln!("the agent's status showed the grown device after {:?}", grown.elapsed());
    drop(env);
    device.detach().unwrap();
}

/// An agent with the nvmf service, started; its operator's client and a free port for
/// [`create_target`].
async fn started_with_nvmf() -> (Env, Client, u16) {
    let mut env = Env::with_nvmf();
    env.start().await;
    let op = env.client(Who::Operator).await;
    (env, op, free_port())
}

/// Creates volume v1 (16 MiB of RAM), subsystem s1 as `s1`, its namespace 1 on v1 and a
/// TCP listener l1 on 127.0.0.1:`port`, and waits until the service applied them all;
/// returns s1 as the agent answered its creation.
async fn create_target(op: &Client, s1: Subsystem, port: u16) -> Subsystem {
    let created = create_target_objects(op, s1, port).await;
    wait_for("every object APPLIED", async || state(op).await.1).await;
    created
}

/// Creates volume v2 as `volume` and namespace 2 of s1 (as [`create_target`] makes it) on
/// it.
async fn create_namespace_2(op: &Client, volume: Volume) {
    let mut nvmf = op.nvmf();
    let v2 = CreateVolumeRequest { volume_id: "v2".into(), volume: Some(volume) };
    nvmf.create_volume(v2).await.unwrap();
    nvmf.create_namespace(CreateNamespaceRequest {
        parent: "subsystems/s1".into(),
        namespace_id: "2".into(),
        namespace: Some(namespace("volumes/v2")),
    })
    .await
    .unwrap();
}

/// The objects of [`create_target`], stored; returns s1 as the agent answered.
async fn create_target_objects(op: &Client, s1: Subsystem, port: u16) -> Subsystem {
    let mut nvmf = op.nvmf();
    nvmf.create_volume(CreateVolumeRequest {
        volume_id: "v1".into(),
        volume: Some(ram_volume(16 << 20)),
    })
    .await
    .unwrap();
    let created = nvmf
        .create_subsystem(CreateSubsystemRequest { subsystem_id: "s1".into(), subsystem: Some(s1) })
        .await
        .unwrap()
        .into_inner();
    let ns = nvmf
        .create_namespace(CreateNamespaceRequest {
            parent: "subsystems/s1".into(),
            namespace_id: "1".into(),
            namespace: Some(namespace("volumes/v1")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ns.name, "subsystems/s1/namespaces/1");
    nvmf.create_listener(CreateListenerRequest {
        listener_id: "l1".into(),
        listener: Some(tcp_listener(port)),
    })
    .await
    .unwrap();
    created
}

/// A DH-HMAC-CHAP secret of 32 bytes of `byte`, transformed with SHA-256 (as
/// `nvme gen-dhchap-key -m 1` makes them).
fn dhchap(byte: u8) -> Secret {
    Secret::new(&[byte; 32], 1).unwrap()
}

fn host_secret(host: &str, secret: &Secret, ctrl: Option<&Secret>) -> HostSecret {
    HostSecret {
        host_nqn: host.into(),
        dhchap_secret: secret.to_text().to_string(),
        dhchap_ctrl_secret: ctrl.map(|c| c.to_text().to_string()).unwrap_or_default(),
        ..Default::default()
    }
}

/// Each entry's (host, secrets blank, bidirectional) as the agent shows it.
fn shown_secrets(s: &Subsystem) -> Vec<(String, bool, bool)> {
    let spec = s.spec.clone().unwrap_or_default();
    spec.host_secrets
        .iter()
        .map(|h| {
            let blank = h.dhchap_secret.is_empty() && h.dhchap_ctrl_secret.is_empty();
            (h.host_nqn.clone(), blank, h.bidirectional)
        })
        .collect()
}

/// Connects `host` with these secrets; on success writes and reads back a block and
/// disconnects.
async fn connect_as(
    addr: SocketAddr,
    host: &str,
    secret: Option<&Secret>,
    ctrl: Option<&Secret>,
) -> Result<(), InitiatorError> {
    let opts = HostOptions {
        hostnqn: host.into(),
        dhchap_secret: secret.cloned(),
        dhchap_ctrl_secret: ctrl.cloned(),
        ..HostOptions::default()
    };
    let mut c = HostController::connect(addr, NQN, &opts, 1).await?;
    let data = vec![0xa5; 512];
    let w = c.io[0].write(1, 16, &data, 512).await?;
    assert!(w.cqe.status.is_success(), "{:?}", w.cqe);
    let r = c.io[0].read(1, 16, 1, 512).await?;
    assert!(r.cqe.status.is_success() && r.data == data, "{:?}", r.cqe);
    c.shutdown().await
}

/// The operator gives a host a DH-HMAC-CHAP secret: no reply ever carries it (blank, with
/// `bidirectional` telling whether a controller secret is set), malformed secrets are
/// refused naming the field and without echoing them, and through the supervised target
/// only the host that proves its secret (and, asked, gets the controller's proof) does
/// I/O. An update whose mask leaves the secrets out keeps them; one naming them replaces
/// them; what a Get shows (secrets blank), sent back with another field changed, keeps
/// them (the controller's too while `bidirectional`), and a blank secret for a host with
/// none stored is refused; a restarted service gets them again from the agent's store,
/// which only the agent's user may read.
#[tokio::test(flavor = "multi_thread")]
async fn host_secrets_are_write_only_and_hosts_must_authenticate() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let op = env.client(Who::Operator).await;
    let mut nvmf = op.nvmf();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let (first, second, ctrl, wrong) = (dhchap(0xa1), dhchap(0xb2), dhchap(0xc3), dhchap(0xd4));
    let texts: Vec<String> =
        [&first, &second, &ctrl, &wrong].iter().map(|s| s.to_text().to_string()).collect();

    let mut with_secret = subsystem(NQN);
    let spec = with_secret.spec.as_mut().unwrap();
    spec.host_secrets = vec![host_secret(HOST_NQN, &first, None)];
    let created = create_target(&op, with_secret, port).await;
    assert_eq!(shown_secrets(&created), [(HOST_NQN.to_owned(), true, false)]);

    // Get, List (both roles) and dpuctl show the host, never the secret.
    let host = env.client(Who::Host).await;
    for client in [&op, &host] {
        let got = client
            .nvmf()
            .get_subsystem(GetSubsystemRequest { name: "subsystems/s1".into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(shown_secrets(&got), [(HOST_NQN.to_owned(), true, false)]);
        let list = client.nvmf().list_subsystems(ListSubsystemsRequest::default()).await;
        let listed = list.unwrap().into_inner().subsystems;
        assert_eq!(shown_secrets(&listed[0]), [(HOST_NQN.to_owned(), true, false)]);
    }
    let table = ok(&dpuctl(&env, Who::Operator, &["list", "subsystems"]));
    assert!(table.starts_with("NAME") && table.contains("AUTH"), "{table}");
    let row = table.lines().find(|l| l.starts_with("subsystems/s1")).unwrap_or_default();
    assert!(row.contains(" 1 host ") && !row.contains("bidir"), "{table}");
    let json = ok(&dpuctl(&env, Who::Operator, &["get", "subsystem", "s1", "-o", "json"]));
    assert!(json.contains("hostSecrets") && !json.contains("DHHC-1"), "{json}");

    // Only the host with its secret gets in; a host without one or with another is refused.
    connect_as(addr, HOST_NQN, Some(&first), None).await.unwrap();
    let none = connect_as(addr, HOST_NQN, None, None).await.unwrap_err();
    assert!(matches!(none, InitiatorError::Auth(_) | InitiatorError::Status(_)), "{none}");
    let other = connect_as(addr, HOST_NQN, Some(&wrong), None).await.unwrap_err();
    assert!(matches!(other, InitiatorError::Auth(_) | InitiatorError::Status(_)), "{other}");
    // Operators see the failed transaction (the host without a secret never started one).
    let stats = nvmf.get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
    assert_eq!(stats.auth_failures, 1);

    // Malformed secrets: INVALID_ARGUMENT on the field, the message without the secret.
    let good = first.to_text().to_string();
    let mut bad_crc = good.clone().into_bytes();
    bad_crc[20] = if bad_crc[20] == b'A' { b'B' } else { b'A' };
    let bad_crc = String::from_utf8(bad_crc).unwrap();
    let bad_prefix = good.replacen("DHHC-1:", "DHHC-9:", 1);
    // 24 bytes of base64: a 20-byte key.
    let wrong_length = format!("DHHC-1:00:{}:", "QUJD".repeat(8));
    let s2 = |secrets: Vec<HostSecret>| {
        let mut s = subsystem("nqn.2024-01.io.example:dpud-test-2");
        s.spec.as_mut().unwrap().host_secrets = secrets;
        CreateSubsystemRequest { subsystem_id: "s2".into(), subsystem: Some(s) }
    };
    for bad in [&bad_crc, &bad_prefix, &wrong_length] {
        let entry =
            HostSecret { dhchap_secret: bad.clone(), ..host_secret(HOST_NQN, &first, None) };
        let e = nvmf.create_subsystem(s2(vec![entry])).await.unwrap_err();
        assert_eq!(
            (e.code(), violation_field(&e).as_str()),
            (Code::InvalidArgument, "subsystem.spec.host_secrets[0].dhchap_secret"),
            "{e:?}"
        );
        let key = bad.split(':').nth(2).unwrap();
        assert!(!e.message().contains(bad.as_str()) && !e.message().contains(&key[..12]), "{e:?}");
        println!("refused {}: {}", violation_field(&e), e.message());
    }
    let bad_ctrl =
        HostSecret { dhchap_ctrl_secret: bad_crc.clone(), ..host_secret(HOST_NQN, &first, None) };
    let e = nvmf.create_subsystem(s2(vec![bad_ctrl])).await.unwrap_err();
    assert_eq!(violation_field(&e), "subsystem.spec.host_secrets[0].dhchap_ctrl_secret");
    assert!(!e.message().contains(&bad_crc[10..30]), "{e:?}");
    // A secret for a host that may not connect at all.
    let stranger = host_secret("nqn.2014-08.org.example:stranger", &first, None);
    let e = nvmf.create_subsystem(s2(vec![stranger])).await.unwrap_err();
    assert_invalid(&e, "subsystem.spec.host_secrets[0].host_nqn");
    // Listed twice.
    let twice = vec![host_secret(HOST_NQN, &first, None), host_secret(HOST_NQN, &second, None)];
    let e = nvmf.create_subsystem(s2(twice)).await.unwrap_err();
    assert_eq!(violation_field(&e), "subsystem.spec.host_secrets[1].host_nqn");
    // What a read shows, sent back whole: the blank secret keeps the stored one, so nothing
    // changes (same etag and generation).
    let read = nvmf
        .get_subsystem(GetSubsystemRequest { name: "subsystems/s1".into() })
        .await
        .unwrap()
        .into_inner();
    let round_trip = |s: &Subsystem| UpdateSubsystemRequest {
        subsystem: Some(s.clone()),
        update_mask: None,
        allow_missing: false,
    };
    let same = nvmf.update_subsystem(round_trip(&read)).await.unwrap().into_inner();
    assert_eq!((&same.etag, same.generation), (&read.etag, read.generation));
    assert_eq!(shown_secrets(&same), [(HOST_NQN.to_owned(), true, false)]);
    // A blank secret for a host without a stored one is refused; nothing changes.
    let other_host = "nqn.2014-08.org.example:no-secret";
    let mut unknown = read.clone();
    let spec = unknown.spec.as_mut().unwrap();
    spec.allowed_hosts.push(other_host.into());
    spec.host_secrets.push(HostSecret { host_nqn: other_host.into(), ..Default::default() });
    let e = nvmf.update_subsystem(round_trip(&unknown)).await.unwrap_err();
    assert_invalid(&e, "subsystem.spec.host_secrets[1].dhchap_secret");
    assert!(e.message().contains("required for a host without a stored secret"), "{e:?}");
    let names = state(&op).await.0;
    assert_eq!(names.len(), 4, "a refused request changed something: {names:?}");
    assert_eq!(subsystem_s1(&op).await.etag, read.etag, "a refused request changed s1");

    // An update of another field keeps the secrets: a second allowed host (without a
    // secret) connects as before, the first still needs its secret.
    let mask = |path: &str| Some(pbjson_types::FieldMask { paths: vec![path.into()] });
    // An update of s1's allowed hosts alone, under `etag`.
    let allow = |etag: &str, hosts: &[&str]| UpdateSubsystemRequest {
        subsystem: Some(Subsystem {
            name: "subsystems/s1".into(),
            etag: etag.into(),
            spec: Some(SubsystemSpec {
                allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        update_mask: mask("spec.allowed_hosts"),
        allow_missing: false,
    };
    let updated = nvmf
        .update_subsystem(allow(&read.etag, &[HOST_NQN, other_host]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.generation, read.generation + 1);
    assert_eq!(shown_secrets(&updated), [(HOST_NQN.to_owned(), true, false)]);
    wait_for("allowed_hosts APPLIED", async || state(&op).await.1).await;
    connect_as(addr, other_host, None, None).await.unwrap();
    assert!(connect_as(addr, HOST_NQN, None, None).await.is_err(), "the secret was dropped");
    connect_as(addr, HOST_NQN, Some(&first), None).await.unwrap();

    // The mask spec.host_secrets replaces them (a stale etag is refused first): now a new
    // secret with a controller secret, so the host may make the controller prove itself,
    // and the ffdhe2048 DH group, which the service and our initiator then exchange in.
    let replace = |etag: String| UpdateSubsystemRequest {
        subsystem: Some(Subsystem {
            name: "subsystems/s1".into(),
            etag,
            spec: Some(SubsystemSpec {
                host_secrets: vec![HostSecret {
                    dh_group: DhGroup::Ffdhe2048.into(),
                    ..host_secret(HOST_NQN, &second, Some(&ctrl))
                }],
                ..Default::default()
            }),
            ..Default::default()
        }),
        update_mask: mask("spec.host_secrets"),
        allow_missing: false,
    };
    let stale = nvmf.update_subsystem(replace(read.etag.clone())).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let replaced = nvmf.update_subsystem(replace(updated.etag.clone())).await.unwrap().into_inner();
    assert_eq!(shown_secrets(&replaced), [(HOST_NQN.to_owned(), true, true)]);
    assert_eq!(replaced.spec.as_ref().unwrap().allowed_hosts.len(), 2);
    wait_for("host_secrets APPLIED", async || state(&op).await.1).await;
    let table = ok(&dpuctl(&env, Who::Host, &["list", "subsystems"]));
    assert!(table.contains(" 1 host, bidir "), "{table}");
    assert!(connect_as(addr, HOST_NQN, Some(&first), None).await.is_err(), "old secret");
    connect_as(addr, HOST_NQN, Some(&second), None).await.unwrap();
    connect_as(addr, HOST_NQN, Some(&second), Some(&ctrl)).await.unwrap();
    // The host expects another controller secret: the controller's proof fails.
    let e = connect_as(addr, HOST_NQN, Some(&second), Some(&wrong)).await.unwrap_err();
    assert!(matches!(e, InitiatorError::Auth(_)), "{e}");

    // The usual round trip: Get (secrets blank, bidirectional), change max_io_queues, send
    // it back whole without a mask. The blank secrets keep the stored ones, the
    // controller's too: the host authenticates both ways with the secrets it has.
    let mut read = subsystem_s1(&op).await;
    assert_eq!(shown_secrets(&read), [(HOST_NQN.to_owned(), true, true)]);
    read.spec.as_mut().unwrap().max_io_queues = 4;
    let kept = nvmf.update_subsystem(round_trip(&read)).await.unwrap().into_inner();
    assert_eq!(kept.generation, replaced.generation + 1);
    assert_eq!(kept.spec.as_ref().unwrap().max_io_queues, 4);
    assert_eq!(shown_secrets(&kept), [(HOST_NQN.to_owned(), true, true)]);
    wait_for("max_io_queues APPLIED", async || state(&op).await.1).await;
    connect_as(addr, HOST_NQN, Some(&second), Some(&ctrl)).await.unwrap();
    assert!(connect_as(addr, HOST_NQN, None, None).await.is_err(), "the secret was dropped");
    let e = connect_as(addr, HOST_NQN, Some(&second), Some(&wrong)).await.unwrap_err();
    assert!(matches!(e, InitiatorError::Auth(_)), "the controller secret changed: {e}");
    assert_eq!(shown_secrets(&subsystem_s1(&op).await), [(HOST_NQN.to_owned(), true, true)]);

    // Taking a host off the allowed hosts cuts off the controller it has connected, not
    // only its next Connect.
    let opts = HostOptions { hostnqn: other_host.into(), ..HostOptions::default() };
    let mut revoked = HostController::connect(addr, NQN, &opts, 1).await.unwrap();
    assert!(revoked.io[0].read(1, 16, 1, 512).await.unwrap().cqe.status.is_success());
    let only_first =
        nvmf.update_subsystem(allow(&kept.etag, &[HOST_NQN])).await.unwrap().into_inner();
    assert_eq!(only_first.spec.as_ref().unwrap().allowed_hosts, [HOST_NQN]);
    wait_for("the revocation APPLIED", async || state(&op).await.1).await;
    let cut_off = revoked.io[0].read(1, 16, 1, 512).await;
    let still_reads = matches!(&cut_off, Ok(r) if r.cqe.status.is_success());
    assert!(!still_reads, "the revoked host still reads: {:?}", cut_off.map(|r| r.cqe));
    assert!(connect_as(addr, other_host, None, None).await.is_err(), "reconnected");
    connect_as(addr, HOST_NQN, Some(&second), Some(&ctrl)).await.unwrap();

    // A new service process gets the secrets from the agent's store.
    let before = service_pid("dpu-nvmf", &env.nvmf_socket()).expect("dpu-nvmf running");
    kill_service("dpu-nvmf", &env.nvmf_socket()).unwrap();
    wait_for("a new dpu-nvmf", async || {
        service_pid("dpu-nvmf", &env.nvmf_socket()).is_some_and(|p| p != before)
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while connect_as(addr, HOST_NQN, Some(&second), Some(&ctrl)).await.is_err() {
        assert!(Instant::now() < deadline, "the target did not come back; log:\n{}", env.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(connect_as(addr, HOST_NQN, None, None).await.is_err(), "not re-applied");

    // The store is the agent user's alone, and no log line shows a secret.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let store = env.path("state");
    assert_eq!(mode(&store), 0o700);
    for entry in std::fs::read_dir(&store).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    let log = env.log();
    for (i, text) in texts.iter().enumerate() {
        let key = text.split(':').nth(2).unwrap();
        assert!(!log.contains(&key[..16]), "secret {i} in the log:\n{log}");
    }
}

/// `dpuctl apply` carries `hostSecrets` through; applying the same file again changes
/// nothing, `diff` neither shows a difference nor prints a secret, and a rotated secret
/// in the file is applied.
#[tokio::test(flavor = "multi_thread")]
async fn dpuctl_applies_host_secrets() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let (first, second, ctrl) = (dhchap(0x11), dhchap(0x22), dhchap(0x33));
    let manifest = env.path("nvmf.yaml");
    let write = |secret: &Secret| {
        std::fs::write(
            &manifest,
            format!(
                r#"kind: Volume
name: v1
spec:
  ram: {{sizeBytes: "8388608"}}
---
kind: Subsystem
name: s1
spec:
  nqn: {NQN}
  serialNumber: DPUD0001
  allowedHosts: [{HOST_NQN}]
  hostSecrets:
  - hostNqn: {HOST_NQN}
    dhchapSecret: "{}"
    dhchapCtrlSecret: "{}"
---
kind: Namespace
name: s1/namespaces/1
spec:
  volume: volumes/v1
---
kind: Listener
name: l1
spec: {{trtype: TRANSPORT_TYPE_TCP, address: 127.0.0.1, port: {port}}}
"#,
                &*secret.to_text(),
                &*ctrl.to_text(),
            ),
        )
        .unwrap();
    };
    write(&first);
    let m = manifest.to_str().unwrap();
    let created = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert!(created.contains("subsystems/s1 created"), "{created}");
    let again = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert_eq!(again.lines().filter(|l| l.ends_with(" unchanged")).count(), 4, "{again}");
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m])), "");
    let op = env.client(Who::Operator).await;
    let s1 = op
        .nvmf()
        .get_subsystem(GetSubsystemRequest { name: "subsystems/s1".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((s1.generation, shown_secrets(&s1)), (1, vec![(HOST_NQN.to_owned(), true, true)]));
    wait_for("every object APPLIED", async || state(&op).await.1).await;
    connect_as(addr, HOST_NQN, Some(&first), Some(&ctrl)).await.unwrap();
    assert!(connect_as(addr, HOST_NQN, None, None).await.is_err());

    // Rotate the host's secret in the file.
    write(&second);
    let diff = ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m]));
    assert!(!diff.contains("DHHC-1"), "{diff}");
    let rotated = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert!(
        rotated.contains("subsystems/s1 configured") && rotated.contains("volumes/v1 unchanged"),
        "{rotated}"
    );
    wait_for("the rotated secret APPLIED", async || state(&op).await.1).await;
    connect_as(addr, HOST_NQN, Some(&second), Some(&ctrl)).await.unwrap();
    assert!(connect_as(addr, HOST_NQN, Some(&first), None).await.is_err(), "old secret");
    let table = ok(&dpuctl(&env, Who::Host, &["list", "subsystems"]));
    assert!(table.contains(" 1 host, bidir "), "{table}");

    // The file with its secrets left out (kept in the agent) and `bidirectional: true`
    // is what the agent has: diff shows nothing, apply changes nothing, the secrets stay.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let blank: String = text
        .lines()
        .filter(|l| !l.contains("dhchapSecret"))
        .map(|l| if l.contains("dhchapCtrlSecret") { "    bidirectional: true" } else { l })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!blank.contains("DHHC-1") && blank.contains("bidirectional"), "{blank}");
    std::fs::write(&manifest, blank).unwrap();
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m])), "");
    let kept = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert_eq!(kept.lines().filter(|l| l.ends_with(" unchanged")).count(), 4, "{kept}");
    connect_as(addr, HOST_NQN, Some(&second), Some(&ctrl)).await.unwrap();
}

/// Whether `e` is a Connect refused with Controller Busy (Do Not Retry or not).
fn is_controller_busy(e: &InitiatorError) -> bool {
    let busy = NvmeStatus::CONNECT_CONTROLLER_BUSY;
    matches!(e, InitiatorError::Status(s) if (s.sct(), s.sc()) == (busy.sct(), busy.sc()))
}

/// A controller of the allowed host with one I/O queue.
async fn connect_host(addr: SocketAddr) -> Result<HostController, InitiatorError> {
    let opts = HostOptions { hostnqn: HOST_NQN.into(), ..HostOptions::default() };
    HostController::connect(addr, NQN, &opts, 1).await
}

/// The stored subsystem s1.
async fn subsystem_s1(client: &Client) -> Subsystem {
    let name = "subsystems/s1".into();
    client.nvmf().get_subsystem(GetSubsystemRequest { name }).await.unwrap().into_inner()
}

/// A spec with only a controller ID range.
fn cntlids(min_cntlid: u32, max_cntlid: u32) -> SubsystemSpec {
    SubsystemSpec { min_cntlid, max_cntlid, ..Default::default() }
}

/// An update of s1 to `spec` under `paths`.
fn s1_update(etag: &str, spec: SubsystemSpec, paths: &[&str]) -> UpdateSubsystemRequest {
    UpdateSubsystemRequest {
        subsystem: Some(Subsystem {
            name: "subsystems/s1".into(),
            etag: etag.into(),
            spec: Some(spec),
            ..Default::default()
        }),
        update_mask: Some(pbjson_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
        allow_missing: false,
    }
}

/// A subsystem's `min_cntlid`/`max_cntlid` bound the controller IDs the target gives: the
/// host's controllers get 300, then 301, and a third Connect is refused with Controller
/// Busy. An update to 400-400 applies in place: the two controllers stay connected and do
/// I/O, a new one gets 400 (and the next is busy). `max_io_queues` 1 (with the range
/// widened to 400-401) grants a host that asks for 3 I/O queues one. Out-of-range or
/// empty ranges and a limit of 129 queues are INVALID_ARGUMENT naming the field, and
/// change nothing.
#[tokio::test(flavor = "multi_thread")]
async fn subsystem_cntlid_range_and_io_queue_limit_change_in_place() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let op = env.client(Who::Operator).await;
    let mut nvmf = op.nvmf();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

    let mut ranged = subsystem(NQN);
    let spec = ranged.spec.as_mut().unwrap();
    (spec.min_cntlid, spec.max_cntlid) = (300, 301);
    let spec = create_target(&op, ranged, port).await.spec.unwrap();
    assert_eq!((spec.min_cntlid, spec.max_cntlid), (300, 301));
    let row = |table: &str| {
        table.lines().find(|l| l.starts_with("subsystems/s1 ")).unwrap_or_default().to_owned()
    };
    let table = ok(&dpuctl(&env, Who::Host, &["list", "subsystems"]));
    assert!(table.lines().next().unwrap_or_default().contains(" CNTLIDS "), "{table}");
    assert!(row(&table).contains(" 300-301 "), "{table}");

    // (a) The range bounds the IDs; when every ID is taken, Controller Busy.
    let mut first = connect_host(addr).await.unwrap();
    let mut second = connect_host(addr).await.unwrap();
    assert_eq!((first.cntlid, second.cntlid), (300, 301));
    let busy = connect_host(addr).await.unwrap_err();
    assert!(is_controller_busy(&busy), "{busy}");
    write_and_read(&mut first, 8, 0x31).await;

    // (b) A new range applies in place, by mask: the connected controllers (now outside
    // it) keep working; a new controller gets an ID from the new range.
    let read = subsystem_s1(&op).await;
    let updated = nvmf
        .update_subsystem(s1_update(
            &read.etag,
            cntlids(400, 400),
            &["spec.min_cntlid", "spec.max_cntlid"],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.generation, read.generation + 1);
    let spec = updated.spec.clone().unwrap();
    assert_eq!((spec.min_cntlid, spec.max_cntlid, spec.nqn.as_str()), (400, 400, NQN));
    wait_for("the new range APPLIED", async || state(&op).await.1).await;
    write_and_read(&mut first, 16, 0x32).await;
    write_and_read(&mut second, 24, 0x33).await;
    let mut third = connect_host(addr).await.unwrap();
    assert_eq!(third.cntlid, 400);
    write_and_read(&mut third, 32, 0x34).await;
    let busy = connect_host(addr).await.unwrap_err();
    assert!(is_controller_busy(&busy), "{busy}");
    let stats = nvmf.get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
    let s = &stats.subsystems[0];
    let ids: Vec<u32> = s.controllers.iter().map(|c| c.cntlid).collect();
    assert_eq!((s.live_controllers, ids), (3, vec![300, 301, 400]), "{s:?}");
    let table = ok(&dpuctl(&env, Who::Host, &["list", "subsystems"]));
    assert!(row(&table).contains(" 400-400 "), "{table}");

    // (c) An I/O queue limit, by mask: a host asking for 3 I/O queues is granted 1 and
    // connects 1 (as Linux connects min(asked, granted)); 401 frees an ID for it.
    let queues = SubsystemSpec { max_io_queues: 1, ..cntlids(0, 401) };
    let paths = ["spec.max_cntlid", "spec.max_io_queues"];
    let limited =
        nvmf.update_subsystem(s1_update(&updated.etag, queues, &paths)).await.unwrap().into_inner();
    let spec = limited.spec.clone().unwrap();
    assert_eq!((spec.min_cntlid, spec.max_cntlid, spec.max_io_queues), (400, 401, 1));
    wait_for("the queue limit APPLIED", async || state(&op).await.1).await;
    let opts = HostOptions { hostnqn: HOST_NQN.into(), ..HostOptions::default() };
    let mut fourth = HostController::connect(addr, NQN, &opts, 3).await.unwrap();
    assert_eq!((fourth.cntlid, fourth.io.len()), (401, 1));
    write_and_read(&mut fourth, 40, 0x35).await;
    let table = ok(&dpuctl(&env, Who::Host, &["list", "subsystems"]));
    assert!(row(&table).contains(" 400-401   1 "), "CNTLIDS, then QUEUES: {table}");

    // (d) Invalid ranges and limits: INVALID_ARGUMENT naming the field; nothing changes.
    let both = ["spec.min_cntlid", "spec.max_cntlid"];
    for (spec, paths, field) in [
        (cntlids(0xFFF0, 0), &both[..1], "subsystem.spec.min_cntlid"),
        (cntlids(0, 0x1_0000), &both[1..], "subsystem.spec.max_cntlid"),
        (cntlids(5, 4), &both[..], "subsystem.spec.min_cntlid"),
        // The merged spec is checked: 400 stays the minimum.
        (cntlids(0, 399), &both[1..], "subsystem.spec.min_cntlid"),
        (
            SubsystemSpec { max_io_queues: 129, ..Default::default() },
            &["spec.max_io_queues"][..],
            "subsystem.spec.max_io_queues",
        ),
    ] {
        let e = nvmf.update_subsystem(s1_update("", spec, paths)).await.unwrap_err();
        assert_invalid(&e, field);
        println!("refused under {paths:?}: {}", e.message());
    }
    let mut bad = subsystem("nqn.2024-01.io.example:dpud-test-2");
    bad.spec.as_mut().unwrap().min_cntlid = 0xFFF0;
    let e = nvmf
        .create_subsystem(CreateSubsystemRequest {
            subsystem_id: "s2".into(),
            subsystem: Some(bad),
        })
        .await
        .unwrap_err();
    assert_invalid(&e, "subsystem.spec.min_cntlid");
    assert!(e.message().contains("min_cntlid 65520 is outside 1-65519"), "{e:?}");
    let mut bad = subsystem("nqn.2024-01.io.example:dpud-test-2");
    bad.spec.as_mut().unwrap().max_io_queues = 129;
    let create = CreateSubsystemRequest { subsystem_id: "s2".into(), subsystem: Some(bad) };
    let e = nvmf.create_subsystem(create).await.unwrap_err();
    assert_invalid(&e, "subsystem.spec.max_io_queues");
    assert!(e.message().contains("max_io_queues 129 is outside 1-128"), "{e:?}");
    let now = subsystem_s1(&op).await;
    assert_eq!((now.generation, now.etag.as_str()), (limited.generation, limited.etag.as_str()));
    assert_eq!(now.spec, limited.spec);
    assert_eq!(state(&op).await.0.len(), 4, "a refused request changed something");
    let busy = connect_host(addr).await.unwrap_err();
    assert!(is_controller_busy(&busy), "{busy}");
    for c in [&mut first, &mut second, &mut third, &mut fourth] {
        c.shutdown().await.unwrap();
    }
}

/// `dpuctl apply` carries `minCntlid`/`maxCntlid` and `maxIoQueues` through: applied
/// again it changes nothing, a changed range and limit show in `diff` and are applied, and
/// `list subsystems` shows them; an empty range in the file is refused naming the field.
#[tokio::test(flavor = "multi_thread")]
async fn dpuctl_applies_cntlid_ranges_and_io_queue_limits() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let manifest = env.path("subsystem.yaml");
    let write = |min: u32, max: u32, queues: u32| {
        let text = format!(
            "kind: Subsystem\nname: s1\nspec:\n  nqn: {NQN}\n  allowAnyHost: true\n  minCntlid: {min}\n  maxCntlid: {max}\n  maxIoQueues: {queues}\n"
        );
        std::fs::write(&manifest, text).unwrap();
    };
    let m = manifest.to_str().unwrap();
    let list = || ok(&dpuctl(&env, Who::Host, &["list", "subsystems"]));
    write(100, 199, 4);
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m])), "subsystems/s1 created\n");
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m])), "subsystems/s1 unchanged\n");
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m])), "");
    assert!(list().contains(" 100-199   4 "), "{}", list());

    write(200, 299, 8);
    let diff = dpuctl(&env, Who::Operator, &["diff", "-f", m]);
    assert_eq!(diff.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&diff.stdout),
        "~ subsystems/s1: spec.maxCntlid 199 -> 299\n~ subsystems/s1: spec.maxIoQueues 4 -> 8\n\
         ~ subsystems/s1: spec.minCntlid 100 -> 200\n"
    );
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m])), "subsystems/s1 configured\n");
    let op = env.client(Who::Operator).await;
    let spec = subsystem_s1(&op).await.spec.unwrap();
    assert_eq!((spec.min_cntlid, spec.max_cntlid, spec.max_io_queues), (200, 299, 8));
    assert!(list().contains(" 200-299   8 "), "{}", list());

    write(5, 4, 8);
    let refused = dpuctl(&env, Who::Operator, &["apply", "-f", m]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("subsystem.spec.min_cntlid"), "{stderr}");
    assert_eq!(subsystem_s1(&op).await.generation, 2);
}

/// The apply state and message of listener `name`.
async fn listener_state(client: &Client, name: &str) -> (i32, String) {
    let l = client.nvmf().get_listener(GetListenerRequest { name: name.into() }).await;
    let apply = l.unwrap().into_inner().status.and_then(|s| s.apply).unwrap_or_default();
    (apply.state, apply.message)
}

/// An nvmf listener may not take an address of the agent's own sockets (its listeners and
/// metrics endpoint; a wildcard and `::` overlap them too), by create or update: the
/// service would keep it while the agent restarts, and the agent could not listen again.
/// One stored before (here the agent's configuration moved onto its port while the agent
/// was down) loses: the agent binds its sockets before it syncs the adopted service, and
/// the listener shows FAILED with the service's bind error.
#[tokio::test(flavor = "multi_thread")]
async fn an_nvmf_listener_cannot_take_the_agents_own_addresses() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let op = env.client(Who::Operator).await;
    let mut nvmf = op.nvmf();
    let at = |address: &str, port: u16| Listener {
        spec: Some(ListenerSpec { address: address.into(), ..tcp_listener(port).spec.unwrap() }),
        ..Default::default()
    };
    let create = |l| CreateListenerRequest { listener_id: "l1".into(), listener: Some(l) };
    let own = [
        ("127.0.0.1", env.operator_port, "listener \"operator\""),
        ("0.0.0.0", env.host_port, "listener \"host\""),
        ("::", env.metrics_port, "metrics endpoint"),
    ];
    for (address, port, what) in own {
        let e = nvmf.create_listener(create(at(address, port))).await.unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{address}:{port}: {e:?}");
        assert!(e.message().contains(&format!("the agent's own {what}")), "{e:?}");
    }
    let free = free_port();
    nvmf.create_listener(create(tcp_listener(free))).await.unwrap();
    let onto = |port| UpdateListenerRequest {
        listener: Some(Listener { name: "listeners/l1".into(), ..tcp_listener(port) }),
        update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec.port".into()] }),
        allow_missing: false,
    };
    let e = nvmf.update_listener(onto(env.operator_port)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");

    // l1 on a port something else holds: stored, and FAILED in the service.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    nvmf.update_listener(onto(port)).await.unwrap();
    let failed = ApplyState::Failed as i32;
    wait_for("l1 FAILED", async || listener_state(&op, "listeners/l1").await.0 == failed).await;
    // The agent comes back with its operator listener there; the service kept running.
    env.kill_agent();
    drop(held);
    env.operator_port = port;
    env.tweak_config(|_| {});
    env.start().await;
    assert_eq!(env.operator_port, port, "the agent could not bind its port; log:\n{}", env.log());
    let op = env.client(Who::Operator).await;
    wait_for("l1 FAILED in the new agent", async || {
        let (state, message) = listener_state(&op, "listeners/l1").await;
        state == failed && message.contains("in use")
    })
    .await;
    assert!(service_pid("dpu-nvmf", &env.nvmf_socket()).is_some(), "the service stays");
}

/// A RAM volume's block size 0 means 512: spelling it 512 is no other backing, so a
/// smaller size with it is a shrink the agent refuses, as with the same spelling.
#[tokio::test(flavor = "multi_thread")]
async fn a_volume_keeps_its_block_size_spelling_and_cannot_shrink_by_another() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let op = env.client(Who::Operator).await;
    let mut nvmf = op.nvmf();
    let ram = |size: u64, block_size: u32| Volume {
        name: "volumes/v1".into(),
        spec: Some(VolumeSpec { block_size, ..ram_volume(size).spec.unwrap() }),
        ..Default::default()
    };
    let volume = Some(Volume { name: String::new(), ..ram(16 << 20, 0) });
    nvmf.create_volume(CreateVolumeRequest { volume_id: "v1".into(), volume }).await.unwrap();
    let update = |volume| UpdateVolumeRequest {
        volume: Some(volume),
        update_mask: None,
        allow_missing: false,
    };
    let shrink = nvmf.update_volume(update(ram(8 << 20, 512))).await.unwrap_err();
    assert_eq!(shrink.code(), Code::FailedPrecondition, "{shrink:?}");
    assert!(shrink.message().contains("only grow"), "{shrink:?}");
    // The same size spelled 512 keeps the spelling the volume was created with, which
    // its namespaces' default IDs hash; a grow spelled so as well.
    let same = nvmf.update_volume(update(ram(16 << 20, 512))).await.unwrap().into_inner();
    assert_eq!(same.spec.unwrap().block_size, 0);
    let grown = nvmf.update_volume(update(ram(32 << 20, 512))).await.unwrap().into_inner();
    assert_eq!(grown.spec.unwrap().block_size, 0);
    let shrink = nvmf.update_volume(update(ram(8 << 20, 0))).await.unwrap_err();
    assert_eq!(shrink.code(), Code::FailedPrecondition, "{shrink:?}");
}

/// A listener's transport left unset means TCP: an update that only respells it keeps
/// the stored spelling and generation, as any gRPC client (not only dpuctl) sends it.
#[tokio::test(flavor = "multi_thread")]
async fn a_listener_keeps_its_transport_spelling() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let mut nvmf = env.client(Who::Operator).await.nvmf();
    let port = free_port();
    let listener = Some(tcp_listener(port));
    let req = CreateListenerRequest { listener_id: "l1".into(), listener };
    let created = nvmf.create_listener(req).await.unwrap().into_inner();
    let mut unset = tcp_listener(port);
    unset.name = "listeners/l1".into();
    unset.spec.as_mut().unwrap().trtype = TransportType::Unspecified.into();
    let req = UpdateListenerRequest { listener: Some(unset), ..Default::default() };
    let updated = nvmf.update_listener(req).await.unwrap().into_inner();
    assert_eq!(updated.spec.unwrap().trtype, i32::from(TransportType::Tcp));
    assert_eq!((updated.generation, updated.etag), (created.generation, created.etag));
}

/// A subsystem's CONTROLLERS and a namespace's counters, as Get and List (and `dpuctl
/// list`) show them, are the service's figures of the moment, though nothing was synced
/// since the host connected and wrote; while the service does not answer they are the
/// last sync's, marked stale.
#[tokio::test(flavor = "multi_thread")]
async fn subsystem_and_namespace_statuses_show_live_figures() {
    use dpu_proto::dpu::nvmf::v1::GetNamespaceRequest;
    let (env, op, port) = started_with_nvmf().await;
    create_target(&op, subsystem(NQN), port).await;
    let mut c = connect_host(SocketAddr::from(([127, 0, 0, 1], port))).await.unwrap();
    for lba in 0..3 {
        write_and_read(&mut c, lba, 0x3c).await;
    }
    let host = env.client(Who::Host).await;
    let mut nvmf = host.nvmf();
    let name = "subsystems/s1".to_owned();
    let s = nvmf.get_subsystem(GetSubsystemRequest { name }).await.unwrap().into_inner();
    let status = s.status.unwrap();
    assert_eq!((status.controllers, status.stale), (1, false));
    let n = nvmf.get_namespace(GetNamespaceRequest { name: NS1.into() }).await.unwrap();
    let status = n.into_inner().status.unwrap();
    let counters = status.counters.unwrap();
    assert_eq!((counters.writes, counters.reads, status.stale), (3, 3, false));
    let listed = nvmf.list_subsystems(ListSubsystemsRequest::default()).await.unwrap();
    assert_eq!(listed.into_inner().subsystems[0].status.as_ref().unwrap().controllers, 1);
    let listed = nvmf.list_namespaces(ListNamespacesRequest::default()).await.unwrap();
    let listed = listed.into_inner().namespaces.remove(0).status.unwrap();
    assert_eq!(listed.counters.unwrap().writes, 3);
    // dpuctl: CONTROLLERS and WRITES, the seventh column of each.
    let cell = |kind: &str, row: &str| {
        let table = ok(&dpuctl(&env, Who::Host, &["list", kind]));
        let line = table.lines().find(|l| l.starts_with(row)).unwrap_or_default().to_owned();
        line.split_whitespace().nth(6).unwrap_or_default().to_owned()
    };
    assert_eq!(cell("subsystems", "subsystems/s1 "), "1");
    assert_eq!(cell("namespaces", NS1), "3");
    // An Update's reply is the resource as a Get shows it, figures of the moment too
    // (changes in place: the host stays connected).
    let mask = |path: &str| Some(pbjson_types::FieldMask { paths: vec![path.into()] });
    let queues = Subsystem {
        name: "subsystems/s1".into(),
        spec: Some(SubsystemSpec { max_io_queues: 16, ..Default::default() }),
        ..Default::default()
    };
    let update = UpdateSubsystemRequest {
        subsystem: Some(queues),
        update_mask: mask("spec.max_io_queues"),
        allow_missing: false,
    };
    let s = op.nvmf().update_subsystem(update).await.unwrap().into_inner();
    let status = s.status.unwrap();
    assert_eq!((s.generation, status.controllers, status.stale), (2, 1, false));
    let group = Namespace {
        name: NS1.into(),
        spec: Some(NamespaceSpec { ana_group: 2, ..Default::default() }),
        ..Default::default()
    };
    let update = dpu_proto::dpu::nvmf::v1::UpdateNamespaceRequest {
        namespace: Some(group),
        update_mask: mask("spec.ana_group"),
        allow_missing: false,
    };
    let n = op.nvmf().update_namespace(update).await.unwrap().into_inner();
    let status = n.status.unwrap();
    assert_eq!((n.generation, status.counters.unwrap().writes, status.stale), (2, 3, false));
    c.shutdown().await.unwrap();
    drop(c);
    wait_for("no controller", async || cell("subsystems", "subsystems/s1 ") == "0").await;

    // A service that does not answer (stopped): the last sync's figures, marked stale.
    let stopped = nvmf_service_pid(&env).await;
    stop_process(stopped).await;
    let name = "subsystems/s1".to_owned();
    let s = op.nvmf().get_subsystem(GetSubsystemRequest { name }).await;
    let s = s.unwrap().into_inner();
    assert!(s.status.unwrap().stale);
    // So is a write's reply: no figure of the moment.
    let again = Subsystem { name: "subsystems/s1".into(), ..subsystem(NQN) };
    let update =
        UpdateSubsystemRequest { subsystem: Some(again), update_mask: None, allow_missing: false };
    let s = op.nvmf().update_subsystem(update).await.unwrap().into_inner();
    assert!(s.status.unwrap().stale, "an Update's reply claims live figures");
    let table = ok(&dpuctl(&env, Who::Operator, &["list", "namespaces"]));
    kill(stopped, Signal::SIGCONT).unwrap();
    assert!(table.contains("figures as of the last sync"), "{table}");
}

/// The dpu-nvmf process that answers on the env's socket, as it says itself (a scan of
/// /proc could find one the agent replaced that is still exiting).
async fn nvmf_service_pid(env: &Env) -> Pid {
    use dpu_proto::dpu::internal::v1::GetServiceInfoRequest;
    use dpu_proto::dpu::internal::v1::service_control_client::ServiceControlClient;
    let channel = dpu_runtime::unix::channel(&env.nvmf_socket());
    let mut control = ServiceControlClient::new(channel);
    let info = control.get_service_info(GetServiceInfoRequest {}).await.unwrap().into_inner();
    Pid::from_raw(i32::try_from(info.pid).unwrap())
}

/// The agent and the NVMe/TCP target run without a single capability, as their units
/// (`images/`) start them: root's own files and devices, ports above 1024 and io_uring
/// need none, so whoever takes over either network-facing process gains none either.
#[tokio::test]
async fn the_agent_and_the_target_serve_without_capabilities() {
    let dpud_unit = dpu_lab::unit::read("dpud.service").unwrap();
    let nvmf_unit = dpu_lab::unit::read("dpu-nvmf.service").unwrap();
    assert_eq!(dpu_lab::unit::bounding_set(&dpud_unit), Some(vec![]), "dpud.service");
    assert_eq!(dpu_lab::unit::bounding_set(&nvmf_unit), Some(vec![]), "dpu-nvmf.service");
    let mut env = Env::with_nvmf();
    // dpu-nvmf, started by the agent here, gets the agent's (empty) set, as its unit's.
    env.launcher = dpu_lab::unit::setpriv_prefix(&dpud_unit).unwrap();
    env.start().await;
    let agent = i32::try_from(env.agent_pid()).unwrap();
    let target = service_pid("dpu-nvmf", &env.nvmf_socket()).unwrap();
    for pid in [agent, target] {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let caps: Vec<&str> = ["CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"]
            .iter()
            .filter_map(|f| status.lines().find_map(|l| l.strip_prefix(f)).map(str::trim))
            .collect();
        assert_eq!(caps, ["0000000000000000"; 4], "capabilities of process {pid}");
    }
    let op = env.client(Who::Operator).await;
    let port = free_port();
    create_target(&op, subsystem(NQN), port).await;
    write_and_read_back(SocketAddr::from(([127, 0, 0, 1], port)), 9).await;
    // A file volume beside the RAM one: the target creates and opens its file.
    let mut nvmf = op.nvmf();
    let file = env.path("volume.img");
    nvmf.create_volume(CreateVolumeRequest {
        volume_id: "f1".into(),
        volume: Some(Volume {
            spec: Some(VolumeSpec {
                backend: Some(Backend::File(dpu_proto::dpu::nvmf::v1::FileBackend {
                    path: file.display().to_string(),
                    size_bytes: 8 << 20,
                })),
                ..Default::default()
            }),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    wait_for("the file volume APPLIED", async || state(&op).await.1).await;
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 8 << 20);
}

/// AIP-158 and AIP-134 through the agent, on the nested kind: a ListNamespaces page token
/// continues only the listing that gave it (`page_size` may change, the parent may not),
/// and the update mask `*` replaces the whole spec.
#[tokio::test(flavor = "multi_thread")]
async fn namespace_page_tokens_keep_their_parent_and_the_mask_star_replaces() {
    use dpu_proto::dpu::nvmf::v1::{DeleteNamespaceRequest, UpdateNamespaceRequest};
    let mut env = Env::with_nvmf();
    env.start().await;
    let op = env.client(Who::Operator).await;
    let mut nvmf = op.nvmf();
    for (sub, nqn) in [("s1", NQN), ("s2", "nqn.2024-01.io.example:dpud-test-2")] {
        let req =
            CreateSubsystemRequest { subsystem_id: sub.into(), subsystem: Some(subsystem(nqn)) };
        nvmf.create_subsystem(req).await.unwrap();
    }
    for (i, (sub, nsid)) in [("s1", "1"), ("s1", "2"), ("s2", "1")].into_iter().enumerate() {
        let volume_id = format!("v{i}");
        let volume = Some(ram_volume(1 << 20));
        nvmf.create_volume(CreateVolumeRequest { volume_id: volume_id.clone(), volume })
            .await
            .unwrap();
        nvmf.create_namespace(CreateNamespaceRequest {
            parent: format!("subsystems/{sub}"),
            namespace_id: nsid.into(),
            namespace: Some(namespace(&format!("volumes/{volume_id}"))),
        })
        .await
        .unwrap();
    }
    let list = |parent: &str, page_size: i32, page_token: &str| ListNamespacesRequest {
        parent: parent.into(),
        page_size,
        page_token: page_token.into(),
    };
    let names = |r: dpu_proto::dpu::nvmf::v1::ListNamespacesResponse| {
        let names: Vec<String> = r.namespaces.into_iter().map(|n| n.name).collect();
        (names, r.next_page_token)
    };
    let (first, of_s1) =
        names(nvmf.list_namespaces(list("subsystems/s1", 1, "")).await.unwrap().into_inner());
    assert_eq!(first, [NS1]);
    // A parent that does not exist is NOT_FOUND (AIP-132), not an empty page.
    let e = nvmf.list_namespaces(list("subsystems/none", 1, "")).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    assert!(e.message().contains("subsystems/none"), "{e:?}");
    // Errors name the resource as the API does, never the store's key.
    let again = CreateNamespaceRequest {
        parent: "subsystems/s1".into(),
        namespace_id: "1".into(),
        namespace: Some(namespace("volumes/v0")),
    };
    let e = nvmf.create_namespace(again).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
    assert!(e.message().contains(NS1) && !e.message().contains("nvmf-"), "{e:?}");
    let stale =
        DeleteNamespaceRequest { name: NS1.into(), etag: "0-0".into(), allow_missing: false };
    let e = nvmf.delete_namespace(stale).await.unwrap_err();
    assert_eq!(e.code(), Code::Aborted, "{e:?}");
    assert!(e.message().contains(NS1) && !e.message().contains("nvmf-"), "{e:?}");
    // Another parent, or every parent, is another listing.
    for parent in ["", "subsystems/s2"] {
        let e = nvmf.list_namespaces(list(parent, 1, &of_s1)).await.unwrap_err();
        assert_eq!(
            (e.code(), violation_field(&e).as_str()),
            (Code::InvalidArgument, "page_token"),
            "{parent:?}: {e:?}"
        );
    }
    let (_, of_all) = names(nvmf.list_namespaces(list("", 1, "")).await.unwrap().into_inner());
    let e = nvmf.list_namespaces(list("subsystems/s1", 1, &of_all)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    // The same listing with another page size goes on where it was.
    let (rest, end) =
        names(nvmf.list_namespaces(list("subsystems/s1", 10, &of_s1)).await.unwrap().into_inner());
    assert_eq!((rest, end.as_str()), (vec!["subsystems/s1/namespaces/2".to_owned()], ""));

    // `*`: the message's whole spec, as an empty mask.
    let read_only =
        NamespaceSpec { volume: "volumes/v0".into(), read_only: true, ..Default::default() };
    let update = UpdateNamespaceRequest {
        namespace: Some(Namespace {
            name: NS1.into(),
            spec: Some(read_only.clone()),
            ..Default::default()
        }),
        update_mask: Some(pbjson_types::FieldMask { paths: vec!["*".into()] }),
        allow_missing: false,
    };
    let updated = nvmf.update_namespace(update).await.unwrap().into_inner();
    assert_eq!((updated.spec, updated.generation), (Some(read_only), 2));
}

/// A volume and a listener on a port another process holds, in a manifest for `dpuctl
/// apply` (the volume `v1`, the listener `busy`); the port is held while the listener lives.
fn busy_listener_manifest(env: &Env) -> (std::path::PathBuf, std::net::TcpListener) {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let manifest = env.path("busy.yaml");
    let text = format!(
        "{}---\nkind: Listener\nname: busy\nspec: {{address: 127.0.0.1, port: {port}}}\n",
        ram_volume_manifest("v1")
    );
    std::fs::write(&manifest, text).unwrap();
    (manifest, busy)
}

fn ram_volume_manifest(id: &str) -> String {
    format!("kind: Volume\nname: {id}\nspec: {{ram: {{sizeBytes: \"1048576\"}}}}\n")
}

/// An object the service could not apply (a listener on a port another process holds) is
/// named in the service's health message, which says how many failed, and in the service's
/// warning of the sync; both go once it applies.
#[tokio::test(flavor = "multi_thread")]
async fn failed_objects_are_named_in_health_and_the_services_warning() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let (manifest, busy) = busy_listener_manifest(&env);
    ok(&dpuctl(&env, Who::Operator, &["apply", "-f", manifest.to_str().unwrap()]));
    let health = async || ok(&dpuctl(&env, Who::Host, &["health", "-o", "json"]));
    let named = "\"message\": \"1 object failed: listeners/busy\"";
    wait_for("health naming the failed listener", async || health().await.contains(named)).await;
    let table = ok(&dpuctl(&env, Who::Host, &["health"]));
    let nvmf = table.lines().find(|l| l.starts_with("nvmf ")).unwrap_or_default();
    assert!(nvmf.contains(" SERVING ") && nvmf.ends_with("1 object failed: listeners/busy"));
    let warned = |l: &str| l.contains("some objects not applied") && l.contains("listeners/busy");
    assert!(env.log().lines().any(warned), "{}", env.log());

    // The port free, a retry of the service applies the listener: the message goes.
    drop(busy);
    wait_for("health without a message", async || !health().await.contains("failed")).await;
}

/// `dpuctl apply --wait` waits until the service reported the generation apply wrote of each
/// object: one it could not apply (a listener on a port another process holds) is named
/// FAILED with the service's message (exit 1), where `apply` alone exits 0; one the service
/// does not get to in time is named still PENDING (exit 1); objects that apply exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn apply_wait_names_what_failed_or_is_still_pending() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let (manifest, busy) = busy_listener_manifest(&env);
    let m = manifest.to_str().unwrap();
    let out = dpuctl(&env, Who::Operator, &["apply", "--wait=30s", "-f", m]);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stdout, "volumes/v1 created\nlisteners/busy created\n");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("dpuctl: listeners/busy: FAILED: cannot listen"), "{stderr}");

    // An object FAILED at the generation written is named at once, as above, though the
    // agent's retries may apply it later. The port free, one does; the wait ends at APPLIED.
    drop(busy);
    let listener = async || ok(&dpuctl(&env, Who::Host, &["get", "listener", "busy"]));
    wait_for("the listener APPLIED", async || listener().await.contains(" APPLIED ")).await;
    let again = ok(&dpuctl(&env, Who::Operator, &["apply", "--wait=60s", "-f", m]));
    assert_eq!(again, "volumes/v1 unchanged\nlisteners/busy unchanged\n");

    // A service that does not answer leaves a new object PENDING: the wait ends at its limit.
    std::fs::write(&manifest, ram_volume_manifest("v2")).unwrap();
    let stopped = nvmf_service_pid(&env).await;
    stop_process(stopped).await;
    let out = dpuctl(&env, Who::Operator, &["apply", "--wait=1s", "-f", m]);
    kill(stopped, Signal::SIGCONT).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "volumes/v2 created\n");
    assert!(stderr.starts_with("dpuctl: volumes/v2: still PENDING after 1s"), "{stderr}");
    // Without a limit, the default one.
    let out = ok(&dpuctl(&env, Who::Operator, &["apply", "--wait", "-f", m]));
    assert_eq!(out, "volumes/v2 unchanged\n");
}

/// Whether the target serves namespace `nsid` to `host`: a read of its first block succeeds,
/// or fails with Invalid Namespace (any other answer fails the test).
async fn serves(host: &mut HostController, nsid: u32) -> bool {
    let r = host.io[0].read(nsid, 0, 1, 512).await.unwrap();
    if r.cqe.status.is_success() {
        return true;
    }
    assert_eq!(r.cqe.status, NvmeStatus::INVALID_NAMESPACE_OR_FORMAT.with_dnr(), "{:?}", r.cqe);
    false
}

/// `dpuctl delete --wait` returns only once the service answered a sync without the
/// object. A namespace deleted while the nvmf service cannot answer (stopped) is
/// acknowledged at once, and the wait goes on until the service, running again, has
/// removed it: from then on the host's commands on it fail (Invalid Namespace) and the
/// service's figures no longer list it, while the other namespace serves on. A limit the
/// service does not meet exits 1 saying the removal is not confirmed; `--allow-missing
/// --wait` of what is gone already still waits for that removal.
#[tokio::test(flavor = "multi_thread")]
async fn delete_wait_returns_once_the_service_no_longer_serves_the_namespace() {
    use dpu_proto::dpu::nvmf::v1::GetNamespaceRequest;
    let (env, op, port) = started_with_nvmf().await;
    create_target_objects(&op, subsystem(NQN), port).await;
    create_namespace_2(&op, ram_volume(16 << 20)).await;
    wait_for("every object APPLIED", async || state(&op).await.1).await;
    let mut host = connect_host(format!("127.0.0.1:{port}").parse().unwrap()).await.unwrap();
    assert!(serves(&mut host, 1).await && serves(&mut host, 2).await);
    let listed = async || {
        let stats = op.nvmf().get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap();
        stats.into_inner().namespaces.into_iter().map(|n| n.name).collect::<Vec<_>>()
    };
    assert_eq!(listed().await, [NS1, NS2]);

    // Stopped, the service answers no sync: the delete is stored, and the wait goes on.
    let service = nvmf_service_pid(&env).await;
    stop_process(service).await;
    let mut waiting = common::dpuctl_command(
        &env,
        Who::Operator,
        &["delete", "namespace", "s1/namespaces/2", "--wait=30s"],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    wait_for("the delete stored", async || {
        let ended = waiting.try_wait().unwrap();
        assert!(ended.is_none(), "dpuctl ended before the delete was stored: {ended:?}");
        let get = op.nvmf().get_namespace(GetNamespaceRequest { name: NS2.into() }).await;
        get.is_err_and(|e| e.code() == Code::NotFound)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let early = waiting.try_wait().unwrap();
    kill(service, Signal::SIGCONT).unwrap();
    assert!(early.is_none(), "the wait ended with the service stopped: {early:?}");
    wait_for("dpuctl delete --wait to end", async || waiting.try_wait().unwrap().is_some()).await;
    let out = waiting.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{NS2} deleted\n"));
    // At once, nothing waited for: the host and the figures no longer see it.
    assert!(!serves(&mut host, 2).await, "namespace 2 served after the wait");
    assert_eq!(listed().await, [NS1]);
    assert!(serves(&mut host, 1).await, "the other namespace");

    // A limit the stopped service does not meet: exit 1, saying so.
    stop_process(service).await;
    let args = ["delete", "namespace", "s1/namespaces/1", "--wait=1s"];
    let out = dpuctl(&env, Who::Operator, &args);
    kill(service, Signal::SIGCONT).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{NS1} deleted\n"));
    let unconfirmed =
        format!("dpuctl: {NS1}: the nvmf service has not confirmed the removal after 1s");
    assert!(stderr.starts_with(&unconfirmed), "{stderr}");
    // Gone from the store already, allowed missing: the wait is for that delete.
    let args = ["delete", "namespace", "s1/namespaces/1", "--allow-missing", "--wait"];
    let out = ok(&dpuctl(&env, Who::Operator, &args));
    assert_eq!(out, format!("{NS1} not found (nothing to delete)\n"));
    assert!(!serves(&mut host, 1).await, "namespace 1 served after the wait");
    assert!(listed().await.is_empty());
}
