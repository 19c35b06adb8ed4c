//! Starts the real `dpu-system` binary on a Unix socket with a scratch sysctl root and talks to
//! it over gRPC, as the agent does.

// Test helpers outside #[test] functions: a panic here is a test failure too.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dpu_proto::dpu::internal::v1::GetServiceInfoRequest;
use dpu_proto::dpu::internal::v1::service_control_client::ServiceControlClient;
use dpu_proto::dpu::system::v1::system_internal_service_client::SystemInternalServiceClient;
use dpu_proto::dpu::system::v1::{
    ApplyState, GetInventoryRequest, ListAppliedSysctlsRequest, SyncSysctlsRequest, Sysctl,
    SysctlSpec,
};
use hyper_util::rt::TokioIo;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};

const DEADLINE: Duration = Duration::from_secs(15);

/// A running `dpu-system`; killed on drop so a failing test leaves no process behind.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn start(socket: &Path, sysctl_root: &Path, log: PathBuf, extra: &[&str]) -> Self {
        Self::start_with(
            Command::new(env!("CARGO_BIN_EXE_dpu-system")),
            socket,
            sysctl_root,
            log,
            extra,
        )
    }

    /// `command` is the binary itself or a wrapper (e.g. `unshare -n`) that execs it.
    fn start_with(
        mut command: Command,
        socket: &Path,
        sysctl_root: &Path,
        log: PathBuf,
        extra: &[&str],
    ) -> Self {
        let log_file = fs::File::create(&log).unwrap();
        let child = command
            .arg("--socket")
            .arg(socket)
            .arg("--sysctl-root")
            .arg(sysctl_root)
            .args(extra)
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap();
        Self { child, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the process to exit by itself, without blocking the runtime (a client on it
    /// must still answer the server's shutdown handshake).
    async fn wait_exit(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < DEADLINE, "process did not exit; log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Process {
    /// Like `wait_exit` but blocks the calling thread, so a client on this runtime freezes.
    fn wait_exit_blocking(&mut self) -> (std::process::ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, start.elapsed());
            }
            assert!(start.elapsed() < DEADLINE, "process did not exit; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Syncs `desired` and returns each object with the status the service gave it.
async fn sync(
    system: &mut SystemInternalServiceClient<Channel>,
    desired: Vec<Sysctl>,
) -> Vec<Sysctl> {
    system.sync_sysctls(SyncSysctlsRequest { sysctls: desired }).await.unwrap().into_inner().sysctls
}

/// Connects over the Unix socket, retrying until the process listens.
async fn connect(process: &mut Process, socket: &Path) -> Channel {
    let start = Instant::now();
    loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            panic!("dpu-system exited early with {status}; log:\n{}", process.log());
        }
        let path = socket.to_path_buf();
        // The URI is required by tonic but unused: the connector ignores it.
        let connected =
            Endpoint::from_static("http://system.invalid")
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let path = path.clone();
                    async move {
                        Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?))
                    }
                }))
                .await;
        match connected {
            Ok(channel) => return channel,
            Err(err) => {
                assert!(
                    start.elapsed() < DEADLINE,
                    "cannot connect: {err}; log:\n{}",
                    process.log()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

fn sysctl(key: &str, value: &str, generation: i64) -> Sysctl {
    Sysctl {
        name: format!("sysctls/{key}"),
        spec: Some(SysctlSpec { value: value.to_owned() }),
        generation,
        ..Default::default()
    }
}

fn fake_sysctl_root(dir: &Path) -> PathBuf {
    let root = dir.join("proc-sys");
    fs::create_dir_all(root.join("net/ipv4")).unwrap();
    fs::write(root.join("net/ipv4/ip_forward"), "0\n").unwrap();
    root
}

#[tokio::test]
async fn serves_and_a_restarted_process_starts_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run/system.sock");
    let root = fake_sysctl_root(dir.path());

    let mut first = Process::start(&socket, &root, dir.path().join("first.log"), &[]);
    let channel = connect(&mut first, &socket).await;
    let mode = fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket must be owner-only");

    let mut control = ServiceControlClient::new(channel.clone());
    let info = control.get_service_info(GetServiceInfoRequest {}).await.unwrap().into_inner();
    assert_eq!(info.service, "system");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(info.pid, first.pid());
    assert!(!info.instance_id.is_empty());

    let mut system = SystemInternalServiceClient::new(channel);
    let inventory = system.get_inventory(GetInventoryRequest {}).await.unwrap().into_inner();
    assert!(!inventory.interfaces.is_empty());
    assert!(inventory.interfaces.iter().any(|i| i.name == "lo"), "{:?}", inventory.interfaces);
    assert!(inventory.versions.iter().any(|v| v.component == "system"));
    assert!(inventory.memory_total_bytes > 0);

    let desired = vec![sysctl("net.ipv4.ip_forward", "1", 4), sysctl("net.ipv4.nope", "1", 1)];
    let synced = sync(&mut system, desired).await;
    assert_eq!(synced.len(), 2);
    let applied = synced[0].status.clone().unwrap();
    assert_eq!(applied.state, ApplyState::Applied as i32, "{}", applied.message);
    assert_eq!((applied.observed_value.as_str(), applied.applied_generation), ("1", 4));
    let failed = synced[1].status.clone().unwrap();
    assert_eq!(failed.state, ApplyState::Failed as i32);
    assert_eq!(failed.message, "no such sysctl: net.ipv4.nope");
    assert_eq!(fs::read_to_string(root.join("net/ipv4/ip_forward")).unwrap(), "1");
    assert!(!root.join("net/ipv4/nope").exists());

    let listed = system.list_applied_sysctls(ListAppliedSysctlsRequest {}).await.unwrap();
    assert_eq!(listed.into_inner().sysctls, synced);

    // kill -9 leaves the socket file behind; the next process must replace it.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(socket.exists());

    let mut second =
        Process::start(&socket, &root, dir.path().join("second.log"), &["--log-format", "json"]);
    let channel = connect(&mut second, &socket).await;
    let info2 = ServiceControlClient::new(channel.clone())
        .get_service_info(GetServiceInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_ne!(info2.instance_id, info.instance_id, "a new process has a new instance id");
    assert_eq!(info2.pid, second.pid());
    let listed = SystemInternalServiceClient::new(channel)
        .list_applied_sysctls(ListAppliedSysctlsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(listed.sysctls.is_empty(), "applied set is in memory only");
    // The kernel value stays as the previous process left it.
    assert_eq!(fs::read_to_string(root.join("net/ipv4/ip_forward")).unwrap(), "1");

    // SIGTERM: graceful exit, socket removed, JSON logs.
    let pid = Pid::from_raw(i32::try_from(second.pid()).unwrap());
    kill(pid, Signal::SIGTERM).unwrap();
    let status = second.wait_exit().await;
    assert!(status.success(), "exit status {status}; log:\n{}", second.log());
    assert!(!socket.exists(), "socket removed on graceful shutdown");
    let log = second.log();
    assert!(
        !log.is_empty() && log.lines().all(|l| l.starts_with('{')),
        "JSON log expected:\n{log}"
    );
    assert!(log.contains("shutting down"), "{log}");
}

#[tokio::test]
async fn refuses_a_socket_another_instance_serves() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("system.sock");
    let root = fake_sysctl_root(dir.path());
    let mut first = Process::start(&socket, &root, dir.path().join("first.log"), &[]);
    let _channel = connect(&mut first, &socket).await;

    let mut second = Process::start(&socket, &root, dir.path().join("second.log"), &[]);
    let status = second.wait_exit().await;
    assert!(!status.success());
    assert!(second.log().contains("already serving"), "{}", second.log());
    // The first one is unaffected.
    assert!(first.child.try_wait().unwrap().is_none());
    assert!(socket.exists());
}

#[tokio::test]
async fn a_frozen_client_does_not_block_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("system.sock");
    let root = fake_sysctl_root(dir.path());
    let mut process = Process::start(&socket, &root, dir.path().join("log"), &[]);
    let channel = connect(&mut process, &socket).await;
    ServiceControlClient::new(channel).get_service_info(GetServiceInfoRequest {}).await.unwrap();

    kill(Pid::from_raw(i32::try_from(process.pid()).unwrap()), Signal::SIGTERM).unwrap();
    // This runtime is blocked from here on: the client never answers the shutdown handshake.
    let (status, took) = process.wait_exit_blocking();
    assert!(status.success(), "exit status {status}; log:\n{}", process.log());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(process.log().contains("exiting anyway"), "{}", process.log());
}

/// The binary on the real /proc/sys in a network namespace of its own (`unshare -n` execs it
/// in place, so its pid is the namespace's), serving on a socket in `dir`.
async fn on_real_procfs(dir: &Path) -> (Process, Channel) {
    let socket = dir.join("system.sock");
    let mut command = Command::new("unshare");
    command.args(["-n", env!("CARGO_BIN_EXE_dpu-system")]);
    let root = Path::new("/proc/sys");
    let mut process = Process::start_with(command, &socket, root, dir.join("log"), &[]);
    let channel = connect(&mut process, &socket).await;
    (process, channel)
}

/// Panics unless this process may make a network namespace of its own (root, unshare(1))
/// and has `tools` (each answers `-V`): what the real-procfs tests need.
fn require_private_netns(tools: &[&str]) {
    let can_unshare =
        Command::new("unshare").args(["-n", "true"]).status().is_ok_and(|s| s.success());
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !Command::new(t).arg("-V").output().is_ok_and(|o| o.status.success()))
        .collect();
    assert!(
        can_unshare && missing.is_empty(),
        "this test needs root, unshare(1) and {tools:?} (missing: {missing:?}); `cargo xtask test` runs as root"
    );
}

/// The real /proc/sys, made harmless: the binary runs in a network namespace of its own
/// (`unshare -n` execs it in place), where `net.*` sysctls are private to that namespace.
/// Needs root and util-linux.
#[tokio::test]
async fn real_procfs_in_a_private_network_namespace() {
    // Succeeds only with CAP_SYS_ADMIN.
    require_private_netns(&["nsenter"]);
    let host_forward = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (process, channel) = on_real_procfs(dir.path()).await;
    let mut system = SystemInternalServiceClient::new(channel);

    let desired = vec![
        sysctl("net.ipv4.ip_forward", "1", 1),
        // The kernel prints this one tab-separated.
        sysctl("net.ipv4.tcp_rmem", "4096 87380 6291456", 1),
        sysctl("net.ipv4.conf.all.forwarding", "not-a-number", 1),
        sysctl("net.ipv4.nope", "1", 1),
        sysctl("net.ipv4.conf", "1", 1),
        // The kernel refuses an unknown congestion control with ENOENT from write(2): a
        // refused value, not a missing sysctl (which would be tried again every 5 s).
        sysctl("net.ipv4.tcp_congestion_control", "no-such-algorithm", 1),
    ];
    let congestion_control = read_in_netns(&process, "net/ipv4/tcp_congestion_control");
    for round in 0..2 {
        let synced = sync(&mut system, desired.clone()).await;
        let status: Vec<_> = synced.iter().map(|s| s.status.clone().unwrap()).collect();
        let applied = ApplyState::Applied as i32;
        assert_eq!(status[0].state, applied, "round {round}: {}", status[0].message);
        assert_eq!(status[0].observed_value, "1");
        assert_eq!(status[1].state, applied, "round {round}: {}", status[1].message);
        assert_eq!(status[1].observed_value, "4096 87380 6291456");
        assert_eq!(status[2].state, ApplyState::Failed as i32);
        assert!(status[2].message.starts_with("kernel rejected value"), "{}", status[2].message);
        assert_eq!(status[3].message, "no such sysctl: net.ipv4.nope");
        assert!(status[4].message.contains("not a sysctl"), "{}", status[4].message);
        assert_eq!(status[5].state, ApplyState::Failed as i32);
        assert!(status[5].message.starts_with("kernel rejected value"), "{}", status[5].message);
        assert_eq!(status[5].observed_value, congestion_control);
    }
    // The kernel takes the first field of this value before it refuses the second (below
    // tcp_rmem's minimum of 1): the refused value changes nothing, the part taken undone.
    let refused = vec![sysctl("net.ipv4.tcp_rmem", "8192 0 6291456", 2)];
    let synced = sync(&mut system, refused).await;
    let status = synced[0].status.clone().unwrap();
    assert_eq!(status.state, ApplyState::Failed as i32);
    assert_eq!(status.observed_value, "4096 87380 6291456", "{}", status.message);
    assert_eq!(fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(), host_forward);
}

#[test]
fn rejects_a_bad_log_level() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_dpu-system"))
        .args(["--log-level", "not a [valid filter"])
        .arg("--socket")
        .arg(dir.path().join("s.sock"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--log-level"));
    assert!(!dir.path().join("s.sock").exists());
}

/// Runs `script` with sh in the network namespace of `process` (its `net.*` sysctls and links).
fn in_netns(process: &Process, script: &str) {
    let pid = process.pid().to_string();
    let status = Command::new("nsenter").args(["-t", &pid, "-n", "sh", "-ec", script]).status();
    assert!(status.is_ok_and(|s| s.success()), "in the service's netns: {script}");
}

/// The value of `key` (a path below /proc/sys) in the network namespace of `process`.
fn read_in_netns(process: &Process, key: &str) -> String {
    let pid = process.pid().to_string();
    let file = format!("/proc/sys/{key}");
    let out = Command::new("nsenter").args(["-t", &pid, "-n", "cat", &file]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Between syncs the service keeps the set in force, on the real /proc/sys of a private
/// network namespace: a value changed behind its back is set again, a parameter whose file
/// appears later (an an interface's, as a VF's does) is set once it appears, and the changed
/// status is announced to the agent through the status epoch. A value the kernel refused is
/// not written again. Needs root, unshare(1), nsenter(1) and ip(8).
#[tokio::test]
async fn the_set_is_kept_between_syncs_on_real_procfs() {
    require_private_netns(&["nsenter", "ip"]);
    let dir = tempfile::tempdir().unwrap();
    let (process, channel) = on_real_procfs(dir.path()).await;
    let mut system = SystemInternalServiceClient::new(channel.clone());
    let mut control = ServiceControlClient::new(channel);

    let desired = vec![
        sysctl("net.ipv4.ip_forward", "1", 1),
        sysctl("net.ipv4.conf.dpu7.arp_ignore", "2", 1),
        sysctl("net.ipv4.conf.all.forwarding", "not-a-number", 1),
    ];
    let synced = sync(&mut system, desired).await;
    let states: Vec<_> = synced.iter().map(|s| s.status.clone().unwrap().state).collect();
    let (applied, failed) = (ApplyState::Applied as i32, ApplyState::Failed as i32);
    assert_eq!(states, [applied, failed, failed]);
    let epoch = control.get_service_info(GetServiceInfoRequest {}).await.unwrap();
    let epoch = epoch.into_inner().status_epoch;

    in_netns(&process, "echo 0 > /proc/sys/net/ipv4/ip_forward");
    in_netns(&process, "ip link add dpu7 type veth peer name dpu8");
    let read = |key: &str| read_in_netns(&process, key);
    let start = Instant::now();
    loop {
        let listed = system.list_applied_sysctls(ListAppliedSysctlsRequest {}).await.unwrap();
        let listed = listed.into_inner().sysctls;
        let kept = listed[1].status.as_ref().is_some_and(|s| s.state == applied)
            && read("net/ipv4/ip_forward") == "1"
            && read("net/ipv4/conf/dpu7/arp_ignore") == "2";
        if kept {
            let status = listed[2].status.clone().unwrap();
            assert_eq!(status.state, failed, "the refused value stays as it was");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not kept within 30 s: {listed:?}, ip_forward {}; log:\n{}",
            read("net/ipv4/ip_forward"),
            process.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let later = control.get_service_info(GetServiceInfoRequest {}).await.unwrap();
    assert!(later.into_inner().status_epoch > epoch, "the agent is told a status changed");
    let log = process.log();
    assert_eq!(log.matches("sysctl set again").count(), 2, "{log}");
}

/// The kernel prints a multi-value sysctl (an integer vector, a port bitmap) only in the first
/// read(2) of the file: a read at a later offset returns nothing. A value longer than the
/// first read must still be seen whole, or it reads back cut and the object is FAILED (and
/// a refused value's undo would write the cut value into the kernel). An empty value clears
/// the list. Needs root, unshare(1) and nsenter(1).
#[tokio::test]
async fn long_values_are_read_whole_on_real_procfs() {
    require_private_netns(&["nsenter"]);
    let dir = tempfile::tempdir().unwrap();
    let (process, channel) = on_real_procfs(dir.path()).await;
    let mut system = SystemInternalServiceClient::new(channel);
    let read = || read_in_netns(&process, "net/ipv4/ip_local_reserved_ports");

    // 38 characters, as the kernel prints them (ascending, ranges with '-').
    let long = "4420,8009,9090,10250-10260,50051-50052";
    in_netns(&process, &format!("echo {long} > /proc/sys/net/ipv4/ip_local_reserved_ports"));
    assert_eq!(read(), long);
    for (round, value) in [long, "4420,50051-50052", long].into_iter().enumerate() {
        let generation = i64::try_from(round).unwrap() + 1;
        let desired = vec![sysctl("net.ipv4.ip_local_reserved_ports", value, generation)];
        let synced = sync(&mut system, desired).await;
        let status = synced[0].status.clone().unwrap();
        assert_eq!(status.state, ApplyState::Applied as i32, "{value}: {}", status.message);
        assert_eq!(status.observed_value, value);
        assert_eq!(read(), value, "the kernel holds the value whole");
    }
    // A refused value is undone to the whole value before it, not to a cut one.
    let refused = vec![sysctl("net.ipv4.ip_local_reserved_ports", "4420,70000", 9)];
    let synced = sync(&mut system, refused).await;
    let status = synced[0].status.clone().unwrap();
    assert_eq!(status.state, ApplyState::Failed as i32);
    assert_eq!(read(), long, "{}", status.message);

    // An empty value clears the list (sent as a newline: the kernel ignores an empty write).
    let cleared = vec![sysctl("net.ipv4.ip_local_reserved_ports", "", 10)];
    let synced = sync(&mut system, cleared).await;
    let status = synced[0].status.clone().unwrap();
    assert_eq!(status.state, ApplyState::Applied as i32, "{}", status.message);
    assert_eq!(read(), "");
}

/// An IPv4 address with a label (`ip addr add ... label lo:1`, an ifupdown alias such as
/// `eth0:1`) belongs to its device: getifaddrs(3) names such an address by its label, but
/// `ip addr` lists it under the device and /sys/class/net has no `lo:1`. Needs root,
/// unshare(1), nsenter(1) and ip(8).
#[tokio::test]
async fn labelled_addresses_belong_to_their_interface() {
    require_private_netns(&["nsenter", "ip"]);
    let dir = tempfile::tempdir().unwrap();
    let (process, channel) = on_real_procfs(dir.path()).await;
    in_netns(
        &process,
        "ip link set lo up; ip addr add 192.0.2.1/24 dev lo label lo:1; \
         ip addr add 198.51.100.1/24 dev lo label lo:web",
    );
    let mut system = SystemInternalServiceClient::new(channel);
    let inventory = system.get_inventory(GetInventoryRequest {}).await.unwrap().into_inner();
    let names: Vec<&str> = inventory.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["lo"], "{:?}", inventory.interfaces);
    let lo = &inventory.interfaces[0];
    for address in ["127.0.0.1/8", "192.0.2.1/24", "198.51.100.1/24"] {
        assert!(lo.addresses.iter().any(|a| a == address), "{address}: {:?}", lo.addresses);
    }
}

/// `net.ipv4.ip_forward` and `net.ipv4.conf.all.forwarding` are one kernel value: given both
/// with different values, one holds and the other is FAILED rather than reported APPLIED and
/// set again by every pass between syncs, flipping forwarding. Needs root,
/// unshare(1) and nsenter(1).
#[tokio::test]
async fn two_keys_of_one_setting_on_real_procfs() {
    require_private_netns(&["nsenter"]);
    let dir = tempfile::tempdir().unwrap();
    let (process, channel) = on_real_procfs(dir.path()).await;
    let mut system = SystemInternalServiceClient::new(channel);
    let desired =
        vec![sysctl("net.ipv4.ip_forward", "1", 1), sysctl("net.ipv4.conf.all.forwarding", "0", 1)];
    let synced = sync(&mut system, desired).await;
    let status: Vec<_> = synced.iter().map(|s| s.status.clone().unwrap()).collect();
    assert_eq!(status[0].state, ApplyState::Applied as i32, "{}", status[0].message);
    assert_eq!(status[1].state, ApplyState::Failed as i32, "{:?}", status[1]);
    assert_eq!(status[1].observed_value, "1");
    assert!(status[1].message.contains("changed back"), "{}", status[1].message);

    // Not a conflict: switching forwarding on turns accept_redirects off as a side effect, and
    // setting accept_redirects again leaves forwarding alone. Both hold after the sync.
    let desired = vec![
        sysctl("net.ipv4.conf.all.accept_redirects", "1", 1),
        sysctl("net.ipv4.conf.all.forwarding", "1", 1),
    ];
    let synced = sync(&mut system, desired).await;
    for s in &synced {
        let status = s.status.clone().unwrap();
        assert_eq!(status.state, ApplyState::Applied as i32, "{}: {}", s.name, status.message);
    }
    let pid = process.pid().to_string();
    let read = |key: &str| {
        let file = format!("/proc/sys/net/ipv4/conf/all/{key}");
        let out = Command::new("nsenter").args(["-t", &pid, "-n", "cat", &file]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!((read("accept_redirects"), read("forwarding")), ("1".into(), "1".into()));

    // The same between syncs: forwarding switched off behind the service's back (which turns
    // accept_redirects on) is set again, and accept_redirects after it.
    in_netns(&process, "echo 0 > /proc/sys/net/ipv4/conf/all/forwarding");
    let start = Instant::now();
    while (read("forwarding"), read("accept_redirects")) != ("1".into(), "1".into()) {
        assert!(start.elapsed() < Duration::from_secs(30), "not kept; log:\n{}", process.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let listed = system.list_applied_sysctls(ListAppliedSysctlsRequest {}).await.unwrap();
    for s in listed.into_inner().sysctls {
        let status = s.status.unwrap();
        assert_eq!(status.state, ApplyState::Applied as i32, "{}: {}", s.name, status.message);
    }
    assert_eq!((read("accept_redirects"), read("forwarding")), ("1".into(), "1".into()));
}

/// Reads `net/ipv4/conf/all/{key}` in the network namespace of `process`.
fn read_conf_all(process: &Process, key: &str) -> String {
    let pid = process.pid().to_string();
    let file = format!("/proc/sys/net/ipv4/conf/all/{key}");
    let out = Command::new("nsenter").args(["-t", &pid, "-n", "cat", &file]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Each object's state and whether its message says it was changed back.
fn states(synced: &[Sysctl]) -> Vec<(i32, bool)> {
    synced
        .iter()
        .map(|s| {
            let status = s.status.as_ref().unwrap();
            (status.state, status.message.contains("changed back"))
        })
        .collect()
}

/// In a fight between two keys of one kernel value, the winner's value holding does not make
/// a key it changed as a side effect FAILED: switching forwarding back off (the winner,
/// `net.ipv4.conf.all.forwarding`, restored after `net.ipv4.ip_forward` changed it) turns
/// `accept_redirects` on again, and setting that once more settles it, as it would without
/// the fight. Only `ip_forward` fights. Needs root, unshare(1) and nsenter(1).
#[tokio::test]
async fn a_side_effect_of_a_fight_is_not_a_fight_on_real_procfs() {
    require_private_netns(&["nsenter"]);
    let dir = tempfile::tempdir().unwrap();
    let (process, channel) = on_real_procfs(dir.path()).await;
    // A new namespace inherits IPv4 settings from the host's: start from known ones.
    in_netns(
        &process,
        "echo 0 > /proc/sys/net/ipv4/conf/all/forwarding; \
         echo 1 > /proc/sys/net/ipv4/conf/all/accept_redirects",
    );
    let mut system = SystemInternalServiceClient::new(channel);
    // In name order, as the agent sends them.
    let desired = vec![
        sysctl("net.ipv4.conf.all.accept_redirects", "0", 1),
        sysctl("net.ipv4.conf.all.forwarding", "0", 1),
        sysctl("net.ipv4.ip_forward", "1", 1),
    ];
    let synced = sync(&mut system, desired).await;
    let (applied, failed) = (ApplyState::Applied as i32, ApplyState::Failed as i32);
    assert_eq!(states(&synced), [(applied, false), (applied, false), (failed, true)], "{synced:?}");
    assert_eq!(
        (read_conf_all(&process, "accept_redirects"), read_conf_all(&process, "forwarding")),
        ("0".into(), "0".into())
    );
}

/// A key that lost a fight to another key of one kernel value is not written again by later
/// syncs while both keep their values: each write would flip forwarding on and off, and each
/// flip resets `accept_redirects` (and every interface's forwarding), so a value of it set
/// behind the service's back staying put shows nothing was written. Once the set changes the
/// winner, the loser is set again. Needs root, unshare(1) and nsenter(1).
#[tokio::test]
async fn a_lost_fight_is_not_fought_again_on_real_procfs() {
    require_private_netns(&["nsenter"]);
    let dir = tempfile::tempdir().unwrap();
    let (process, channel) = on_real_procfs(dir.path()).await;
    in_netns(&process, "echo 0 > /proc/sys/net/ipv4/conf/all/forwarding");
    let mut system = SystemInternalServiceClient::new(channel);
    let fight =
        vec![sysctl("net.ipv4.conf.all.forwarding", "0", 1), sysctl("net.ipv4.ip_forward", "1", 1)];
    let first = sync(&mut system, fight.clone()).await;
    let (applied, failed) = (ApplyState::Applied as i32, ApplyState::Failed as i32);
    assert_eq!(states(&first), [(applied, false), (failed, true)], "{first:?}");

    // Not a value the set names: a flip of forwarding would set it back to 1.
    in_netns(&process, "echo 0 > /proc/sys/net/ipv4/conf/all/accept_redirects");
    let mut with_another = fight.clone();
    with_another.push(sysctl("net.ipv4.ip_default_ttl", "65", 1));
    for desired in [fight.clone(), with_another.clone(), with_another] {
        let synced = sync(&mut system, desired).await;
        assert_eq!(synced[..2], first[..], "the same statuses");
        assert_eq!(read_conf_all(&process, "accept_redirects"), "0", "forwarding was flipped");
        assert_eq!(read_conf_all(&process, "forwarding"), "0");
    }

    // The winner gives way: the loser is set.
    let desired = vec![sysctl("net.ipv4.ip_forward", "1", 2)];
    let synced = sync(&mut system, desired).await;
    assert_eq!(states(&synced), [(applied, false)], "{synced:?}");
    assert_eq!(read_conf_all(&process, "forwarding"), "1");
}
