//! The `dpu-nvmf` binary: starts from a TOML configuration, serves the initiator,
//! exits cleanly on SIGTERM, and refuses a bad configuration with one clear line.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Process, free_loopback_port};
use dpu_nvmf::initiator::{HostController, HostOptions};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// `dpu-nvmf --config F` with `toml` in F (in `dir`) exits 1; returns its stderr.
fn config_error(dir: &std::path::Path, toml: &str) -> String {
    let config = dir.join("nvmf.toml");
    std::fs::write(&config, toml).unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_dpu-nvmf")).arg("--config").arg(&config).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{toml}: {err}");
    err
}

/// `dpu-nvmf --socket unused.sock FLAG VALUE` in `dir` is clap's usage error (exit 2)
/// naming the flag, and binds nothing.
fn assert_usage_error(dir: &std::path::Path, flag: &str, value: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"))
        .args(["--socket", "unused.sock", flag, value])
        .current_dir(dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "clap's usage error: {err}");
    assert!(err.contains(flag), "{err}");
    assert!(!dir.join("unused.sock").exists());
}

/// Starts `cmd` with its stderr in `log_path` and waits (15 s at most) until it says it is
/// ready; returns the process and its log so far.
fn start_until_ready(cmd: &mut Command, log_path: &std::path::Path) -> (Process, String) {
    let stderr = std::fs::File::create(log_path).unwrap();
    let mut p = Process(cmd.stdout(Stdio::null()).stderr(stderr).spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let log = std::fs::read_to_string(log_path).unwrap();
        if log.contains("NVMe/TCP target ready") {
            return (p, log);
        }
        assert!(p.0.try_wait().unwrap().is_none(), "exited: {log}");
        assert!(Instant::now() < deadline, "not ready in 15 s: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn serves_configured_namespace_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_loopback_port();
    let config = dir.path().join("nvmf.toml");
    std::fs::write(
        &config,
        format!(
            r#"
            io_threads = 4
            write_data_budget_mib = 64
            [[listeners]]
            port_id = 1
            address = "127.0.0.1:{port}"
            [[volumes]]
            name = "disk"
            kind = "file"
            path = "{}"
            size = 8388608
            block_size = 4096
            [[subsystems]]
            nqn = "nqn.2024-01.io.example:bin"
            serial = "BIN1"
            allow_any_host = true
            [[subsystems.namespaces]]
            nsid = 1
            volume = "disk"
            "#,
            dir.path().join("disk.img").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut p = Process(
        Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"))
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let start = Instant::now();
    let mut c = loop {
        match HostController::connect(
            addr,
            "nqn.2024-01.io.example:bin",
            &HostOptions::default(),
            1,
        )
        .await
        {
            Ok(c) => break c,
            Err(_) if start.elapsed() < Duration::from_secs(15) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("target not reachable: {e}"),
        }
    };
    let data = vec![0x5Au8; 16384];
    assert!(c.io[0].write(1, 3, &data, 4096).await.unwrap().cqe.status.is_success());
    assert_eq!(c.io[0].read(1, 3, 4, 4096).await.unwrap().data, data);
    kill(Pid::from_raw(p.0.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = p.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert!(
        log.contains("NVMe/TCP target ready io_threads=4 write_data_budget_mib=64"),
        "the file's io_threads and write data budget: {log}"
    );
    // The data is in the file.
    let img = std::fs::read(dir.path().join("disk.img")).unwrap();
    assert_eq!(&img[3 * 4096..7 * 4096], &data[..]);
}

/// `--io-threads` and `--write-data-budget-mib` given with `--config` win over the file's
/// `io_threads` and `write_data_budget_mib`, as flags do.
#[test]
fn the_io_threads_flag_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nvmf.toml");
    std::fs::write(&config, "io_threads = 4\nwrite_data_budget_mib = 64\n").unwrap();
    let (_p, log) = start_until_ready(
        Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"))
            .arg("--config")
            .arg(&config)
            .args(["--io-threads", "7", "--write-data-budget-mib", "32", "--socket"])
            .arg(dir.path().join("nvmf.sock")),
        &dir.path().join("log"),
    );
    assert!(log.contains("NVMe/TCP target ready io_threads=7 write_data_budget_mib=32"), "{log}");
    assert!(!log.contains('\x1b'), "colour codes in a log file: {log}");
}

#[test]
fn bad_configuration_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nvmf.toml");
    std::fs::write(
        &config,
        "[[subsystems]]\nnqn = \"nqn.2024-01.io.example:x\"\n[[subsystems.namespaces]]\nnsid = 1\nvolume = \"nope\"\n",
    )
    .unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_dpu-nvmf")).arg("--config").arg(&config).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no volume nope"), "{err}");
}

/// An `io_threads` (or `--io-threads`) the I/O pool cannot have is refused with its name,
/// not a panic (past the pool's semaphore's limit) nor a silent 1 (for 0).
#[test]
fn io_threads_out_of_range_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["9223372036854775807", "0"] {
        let err = config_error(dir.path(), &format!("io_threads = {n}\n"));
        assert!(err.contains(&format!("io_threads: {n} is outside 1-512")), "{n}: {err}");
    }
    assert_usage_error(dir.path(), "--io-threads", "100000000000000000");
}

/// A listener address that does not bind refuses the file before any volume file is
/// created: the sockets are bound before the volumes are opened.
#[test]
fn a_listener_that_does_not_bind_leaves_no_volume_file() {
    let dir = tempfile::tempdir().unwrap();
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let volume = dir.path().join("disk.img");
    let config = dir.path().join("nvmf.toml");
    std::fs::write(
        &config,
        format!(
            "[[listeners]]\nport_id = 1\naddress = \"{addr}\"\n\
             [[volumes]]\nname = \"v\"\nkind = \"file\"\npath = \"{}\"\nsize = 1048576\n\
             [[subsystems]]\nnqn = \"nqn.2024-01.io.example:x\"\nallow_any_host = true\n\
             [[subsystems.namespaces]]\nnsid = 1\nvolume = \"v\"\n",
            volume.display()
        ),
    )
    .unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_dpu-nvmf")).arg("--config").arg(&config).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(!volume.exists(), "the refused file left a volume file behind");
}

/// `--max-unconnected` 0 would close every connection as it is accepted, and one past the
/// descriptors a process may have would bound nothing: both are usage errors naming the
/// flag (exit 2), found before the service looks further (without `--config` or
/// `--socket`, an accepted value would end in "nothing to serve", exit 1).
#[test]
fn max_unconnected_out_of_range_is_a_usage_error() {
    for n in ["0", "1048577"] {
        let out = Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"))
            .args(["--max-unconnected", n])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{n}: clap's usage error: {err}");
        assert!(err.contains("--max-unconnected") && err.contains("1..=1048576"), "{n}: {err}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"))
        .args(["--max-unconnected", "1048576"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the largest is taken: {err}");
    assert!(err.contains("nothing to serve"), "{err}");
}

/// Run on the file alone, the service drops the saved state (PTPL reservations, Write
/// Protect) of namespaces the file does not have, deleted while it was down: a namespace
/// made again later with the same NGUID must start clean. With the agent's socket too, the
/// file is only the state before the agent's first Sync, which decides: the state stays.
#[test]
fn the_file_alone_drops_the_saved_state_of_namespaces_it_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nvmf.toml");
    std::fs::write(
        &config,
        "[[subsystems]]\nnqn = \"nqn.2024-01.io.example:other\"\nallow_any_host = true\n",
    )
    .unwrap();
    let saved = dir.path().join("state/namespaces/deleted-1.json");
    std::fs::create_dir_all(saved.parent().unwrap()).unwrap();
    let seed: &[u8] =
        include_bytes!("../../dpu-fuzz/seeds/nvmf_state_file/ptpl-and-write-protect.json");
    std::fs::write(&saved, seed).unwrap();
    // Runs the service until it is ready, then stops it.
    let run = |with_socket: bool| {
        let log = dir.path().join("log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"));
        cmd.arg("--config").arg(&config).arg("--state-dir").arg(dir.path().join("state"));
        if with_socket {
            cmd.arg("--socket").arg(dir.path().join("nvmf.sock"));
        }
        let (mut p, _) = start_until_ready(&mut cmd, &log);
        kill(Pid::from_raw(p.0.id() as i32), Signal::SIGTERM).unwrap();
        assert!(p.0.wait().unwrap().success());
    };
    // The service renames a file found under another name to its namespace's own.
    let saved_files = || {
        let dir = std::fs::read_dir(saved.parent().unwrap()).unwrap();
        dir.filter(|e| e.as_ref().unwrap().path().extension() == Some("json".as_ref())).count()
    };
    run(true);
    assert_eq!(saved_files(), 1, "removed before the agent's first Sync");
    run(false);
    assert_eq!(saved_files(), 0, "the file alone kept the state of a namespace it does not have");
}

/// A `write_data_budget_mib` (or `--write-data-budget-mib`) outside 1-16,384 is refused
/// with its name, before anything is served; without either the budget is 256 MiB.
#[test]
fn write_data_budget_out_of_range_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for n in ["0", "16385", "9223372036854775807"] {
        let err = config_error(dir.path(), &format!("write_data_budget_mib = {n}\n"));
        assert!(
            err.contains(&format!("write_data_budget_mib: {n} is outside 1-16384")),
            "{n}: {err}"
        );
    }
    assert_usage_error(dir.path(), "--write-data-budget-mib", "0");
    // Neither: the default.
    let (_p, log) = start_until_ready(
        Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"))
            .arg("--socket")
            .arg(dir.path().join("nvmf.sock")),
        &dir.path().join("log"),
    );
    assert!(log.contains("write_data_budget_mib=256"), "{log}");
}

/// `subsystems` subsystems open to any host, `nqn.2024-01.io.example:storm<N>`, each with a
/// RAM namespace, and a listener on `127.0.0.1:port`, as the agent's Sync.
fn storm_state(port: u16, subsystems: usize) -> dpu_proto::dpu::nvmf::v1::SyncRequest {
    use dpu_proto::dpu::nvmf::v1 as pb;
    let ram = pb::volume_spec::Backend::Ram(pb::RamBackend { size_bytes: 1 << 20 });
    let spec = pb::VolumeSpec { backend: Some(ram), block_size: 512, ..Default::default() };
    let volume = pb::Volume {
        name: "volumes/r".into(),
        generation: 1,
        spec: Some(spec),
        ..Default::default()
    };
    let subsystem = |s: usize| pb::Subsystem {
        name: format!("subsystems/s{s}"),
        generation: 1,
        spec: Some(pb::SubsystemSpec {
            nqn: format!("nqn.2024-01.io.example:storm{s}"),
            serial_number: format!("STORM{s}"),
            allow_any_host: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let namespace = |s: usize| pb::Namespace {
        name: format!("subsystems/s{s}/namespaces/1"),
        generation: 1,
        spec: Some(pb::NamespaceSpec { volume: "volumes/r".into(), ..Default::default() }),
        ..Default::default()
    };
    let listener = common::loopback_listener_pb("listeners/l", port);
    pb::SyncRequest {
        volumes: vec![volume],
        subsystems: (0..subsystems).map(subsystem).collect(),
        namespaces: (0..subsystems).map(namespace).collect(),
        listeners: vec![listener],
    }
}

/// The service's resident set in KiB (`VmRSS` of `/proc/PID/status`).
fn rss_kib(pid: u32) -> u64 {
    dpu_runtime::process::resident_kib(Some(pid)).expect("the service's VmRSS")
}

/// Controllers each subsystem of the storm takes from one source address (the most one
/// address may hold, `MAX_CONTROLLERS_PER_ADDRESS`).
const PER_ADDRESS: usize = 16;

/// One address's controllers of the storm: `PER_ADDRESS` to each of `subsystems`, each with
/// one I/O queue, all from `127.0.0.<host>`, in the order made.
async fn connect_crowd(addr: SocketAddr, host: u8, subsystems: usize) -> Vec<HostController> {
    let opts = HostOptions {
        hostnqn: format!("nqn.2014-08.org.example:storm-{host}"),
        hostid: [host; 16],
        source: Some(std::net::IpAddr::from([127, 0, 0, host])),
        ..HostOptions::default()
    };
    let mut held = Vec::new();
    for s in 0..subsystems {
        for _ in 0..PER_ADDRESS {
            let nqn = format!("nqn.2024-01.io.example:storm{s}");
            held.push(HostController::connect(addr, &nqn, &opts, 1).await.unwrap());
        }
    }
    held
}

/// After a storm of connections has come and gone (1,024 connections: 512 controllers
/// with an I/O queue each, from 8 addresses), the service gives the memory they used back
/// to the system: its resident set comes back to within a quarter of the storm's rise
/// above what it was before, within seconds (glibc keeps freed memory in its arenas unless
/// asked: `trim::TrimPolicy`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_freed_after_a_connection_storm_goes_back_to_the_system() {
    use dpu_proto::dpu::nvmf::v1::GetNvmfStatsRequest;
    use dpu_proto::dpu::nvmf::v1::nvmf_internal_service_client::NvmfInternalServiceClient;
    const SUBSYSTEMS: usize = 4;
    const ADDRESSES: u8 = 8;
    let dir = tempfile::tempdir().unwrap();
    let port = free_loopback_port();
    let socket = dir.path().join("nvmf.sock");
    let (p, _) = start_until_ready(
        Command::new(env!("CARGO_BIN_EXE_dpu-nvmf")).arg("--socket").arg(&socket),
        &dir.path().join("log"),
    );
    let client = NvmfInternalServiceClient::new(dpu_runtime::unix::channel(&socket));
    client.clone().sync(storm_state(port, SUBSYSTEMS)).await.unwrap();
    let pid = p.0.id();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // The test's own 1,024 sockets may pass the usual soft limit.
    dpu_runtime::raise_open_files_limit();
    // A first round brings up what stays (the runtime's threads, the registry's tables).
    drop(connect_crowd(addr, 2, 1).await);
    let controllers = || async {
        let mut client = client.clone();
        let stats = client.get_nvmf_stats(GetNvmfStatsRequest {}).await.unwrap().into_inner();
        stats.subsystems.iter().map(|s| s.live_controllers as usize).sum::<usize>()
    };
    let gone = async || controllers().await == 0;
    assert!(wait_until(Duration::from_secs(10), gone).await, "the first round's controllers");
    let before = rss_kib(pid);
    let crowds: Vec<_> =
        (0..ADDRESSES).map(|a| tokio::spawn(connect_crowd(addr, 2 + a, SUBSYSTEMS))).collect();
    let mut held = Vec::new();
    for c in crowds {
        held.extend(c.await.unwrap());
    }
    assert_eq!(controllers().await, SUBSYSTEMS * usize::from(ADDRESSES) * PER_ADDRESS);
    let peak = rss_kib(pid);
    assert!(peak > before + 4096, "the storm took {} KiB, too little to tell", peak - before);
    drop(held);
    assert!(wait_until(Duration::from_secs(10), gone).await, "the storm's controllers");
    let bound = before + (peak - before) / 4;
    let back = wait_until(Duration::from_secs(5), async || rss_kib(pid) <= bound).await;
    let now = rss_kib(pid);
    assert!(back, "resident {now} KiB, {before} KiB before the storm and {peak} KiB at its peak");
}

/// Polls `done` every 50 ms until it holds or `limit` passed; whether it held.
async fn wait_until(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done().await {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}
