//! Test harness: a development PKI, a config with free loopback ports, and the real `dpud` and
//! `dpu-system` binaries as child processes (killed on drop).

#![allow(dead_code, clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dpu_client::{Client, ConnectOptions};
use dpu_pki::Role;
use dpu_proto::dpu::system::v1::{GetHealthRequest, ServingState};
use dpud::config::{Config, Listener, Metrics, Service};

/// A binary of this workspace, next to the test executable's `deps/` directory.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run the tests with `cargo test --workspace` (it builds every binary)",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct free ports: all are held until each was picked, so none comes twice.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held = [(); N].map(|()| TcpListener::bind("127.0.0.1:0").unwrap());
    held.map(|l| l.local_addr().unwrap().port())
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub host_port: u16,
    pub operator_port: u16,
    pub metrics_port: u16,
    /// Whether the agent also drives the nvmf service (`dpu-nvmf --socket run/nvmf.sock`).
    pub nvmf: bool,
    /// Whether the agent also drives the switch (`dpu-switch --socket run/switch.sock`); it
    /// binds the ports it is given, so such an agent runs inside a lab namespace.
    pub switch: bool,
    /// A command that runs dpud (setpriv(1) and its options): dpud and the services it
    /// supervises run with what it leaves them. Empty: dpud runs directly.
    pub launcher: Vec<String>,
    /// Applied to the config before it is written (`tweak_config`).
    config_tweak: Option<ConfigTweak>,
    agent: Option<Child>,
    /// Every agent started or taken in, by pid: the cgroups each made for its services go
    /// when the Env kills everything.
    agents: Vec<u32>,
}

type ConfigTweak = std::sync::Arc<dyn Fn(&mut Config) + Send + Sync>;

pub enum Who {
    Host,
    Operator,
}

impl Env {
    /// A PKI, a fake sysctl tree and a config; nothing runs yet.
    pub fn new() -> Self {
        Self::build(false, false)
    }

    /// Like [`new`](Self::new), with the nvmf service configured (and supervised) too.
    pub fn with_nvmf() -> Self {
        Self::build(true, false)
    }

    /// Like [`new`](Self::new), with the switch service configured (and supervised) too.
    pub fn with_switch() -> Self {
        Self::build(false, true)
    }

    fn build(nvmf: bool, switch: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        dpu_pki::init_dev_pki(&dir.path().join("certs"), &dpu_pki::default_server_sans()).unwrap();
        let root = dir.path().join("sysctl");
        std::fs::create_dir_all(root.join("net/ipv4")).unwrap();
        std::fs::write(root.join("net/ipv4/ip_forward"), "0\n").unwrap();
        std::fs::create_dir_all(root.join("vm")).unwrap();
        std::fs::write(root.join("vm/swappiness"), "60\n").unwrap();
        let [host_port, operator_port, metrics_port] = free_ports();
        let env = Self {
            dir,
            host_port,
            operator_port,
            metrics_port,
            nvmf,
            switch,
            launcher: Vec::new(),
            config_tweak: None,
            agent: None,
            agents: Vec::new(),
        };
        env.write_config();
        env
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn socket(&self) -> PathBuf {
        self.path("run/system.sock")
    }

    pub fn nvmf_socket(&self) -> PathBuf {
        self.path("run/nvmf.sock")
    }

    pub fn switch_socket(&self) -> PathBuf {
        self.path("run/switch.sock")
    }

    /// Changes the config with `tweak` (paths in it are relative to [`Env::path`]).
    pub fn tweak_config(&mut self, tweak: impl Fn(&mut Config) + Send + Sync + 'static) {
        self.config_tweak = Some(std::sync::Arc::new(tweak));
        self.write_config();
    }

    fn write_config(&self) {
        let local = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut services = vec![Service::supervised(
            "system",
            &workspace_bin("dpu-system"),
            &self.socket(),
            &["--sysctl-root", &self.path("sysctl").display().to_string()],
        )];
        if self.nvmf {
            services.push(Service::supervised(
                "nvmf",
                &workspace_bin("dpu-nvmf"),
                &self.nvmf_socket(),
                &["--state-dir", &self.path("nvmf-state").display().to_string()],
            ));
        }
        if self.switch {
            services.push(Service::supervised(
                "switch",
                &workspace_bin("dpu-switch"),
                &self.switch_socket(),
                &[],
            ));
        }
        let mut config = Config {
            log_level: "info,dpud=debug".into(),
            metrics: Some(Metrics { address: local(self.metrics_port) }),
            ..Config::development(
                vec![
                    Listener::new("host", local(self.host_port)).capped_at(Role::Host),
                    Listener::new("operator", local(self.operator_port)),
                ],
                services,
            )
        };
        if let Some(tweak) = &self.config_tweak {
            tweak(&mut config);
        }
        std::fs::write(self.path("dpud.toml"), config.to_toml().unwrap()).unwrap();
    }

    /// Starts dpud and waits until it answers a health call.
    ///
    /// The ports come from `free_port`, which frees them again before dpud binds; when another
    /// process took one meanwhile, dpud exits with "Address already in use" and the harness
    /// retries with fresh ports (at most three times).
    pub async fn start(&mut self) {
        assert!(self.agent.is_none(), "agent already running");
        for _attempt in 0..3 {
            let logged_before = self.log().len();
            self.spawn_agent();
            match self.wait_ready().await {
                Ok(()) => return,
                Err(log)
                    if log[logged_before.min(log.len())..].contains("Address already in use") =>
                {
                    self.agent = None;
                    [self.host_port, self.operator_port, self.metrics_port] = free_ports();
                    self.write_config();
                }
                Err(log) => panic!("dpud exited; log:\n{log}"),
            }
        }
        panic!("dpud could not bind free ports three times; log:\n{}", self.log());
    }

    fn spawn_agent(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("dpud.log"))
            .unwrap();
        let dpud = workspace_bin("dpud");
        let mut command = match self.launcher.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(dpud);
                c
            }
            None => Command::new(dpud),
        };
        let child = command
            .arg("--config")
            .arg(self.path("dpud.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.agents.push(child.id());
        self.agent = Some(child);
    }

    /// Ok when ready; Err(log) when dpud exited.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // Ready means the agent answers and every service it drives is up and synced.
            if let Ok(client) = self.try_client(Who::Operator).await
                && let Ok(health) = client.system().get_health(GetHealthRequest {}).await
                && health.get_ref().services.iter().all(|s| s.state == ServingState::Serving as i32)
            {
                return Ok(());
            }
            if let Some(_status) = self.agent.as_mut().unwrap().try_wait().unwrap() {
                return Err(self.log());
            }
            assert!(Instant::now() < deadline, "dpud did not become ready; log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("dpud.log")).unwrap_or_default()
    }

    /// Takes a dpud the test started itself (its own environment, pipes) into the Env, so
    /// that a failing assertion still kills it, and the service it supervises, on drop.
    pub fn adopt_agent(&mut self, child: Child) {
        assert!(self.agent.is_none(), "agent already running");
        self.agents.push(child.id());
        self.agent = Some(child);
    }

    /// The running agent's process.
    pub fn agent_mut(&mut self) -> &mut Child {
        self.agent.as_mut().expect("agent running")
    }

    pub fn agent_pid(&self) -> u32 {
        self.agent.as_ref().expect("agent running").id()
    }

    /// SIGKILL, as a crash would end it. The service process it supervised keeps running,
    /// as it does on a card, and the next agent adopts it.
    pub fn kill_agent(&mut self) {
        if let Some(mut child) = self.agent.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until the agent exits by itself, at most 30 s (then fails the test), and
    /// returns its status. Async, so the test's clients on the same runtime answer the
    /// agent's graceful close of their connections meanwhile.
    pub async fn wait_agent_exit(&mut self) -> std::process::ExitStatus {
        let agent = self.agent.as_mut().expect("agent running");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = agent.try_wait().unwrap() {
                self.agent = None;
                return status;
            }
            assert!(Instant::now() < deadline, "dpud did not exit; log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The agent and the service process: what a power cut does.
    pub fn kill_all(&mut self) {
        self.kill_agent();
        kill_system_service(&self.socket());
        if self.nvmf {
            kill_service("dpu-nvmf", &self.nvmf_socket());
        }
        if self.switch {
            kill_service("dpu-switch", &self.switch_socket());
        }
        // The cgroups its agents made for their services (a wrapper may still be going).
        for agent in &self.agents {
            dpud::services::remove_cgroups_of(*agent);
        }
    }

    pub fn options(&self, who: Who, port: u16) -> ConnectOptions {
        let (cert, key) = match who {
            Who::Host => ("certs/host.crt", "certs/host.key"),
            Who::Operator => ("certs/operator.crt", "certs/operator.key"),
        };
        ConnectOptions {
            endpoint: format!("https://127.0.0.1:{port}"),
            ca: self.path("certs/ca.crt"),
            cert: self.path(cert),
            key: self.path(key),
            timeout: Duration::from_secs(10),
        }
    }

    async fn try_client(&self, who: Who) -> Result<Client, dpu_client::ClientError> {
        let port = match who {
            Who::Host => self.host_port,
            Who::Operator => self.operator_port,
        };
        dpu_client::connect(&self.options(who, port)).await
    }

    /// A client with the given role's certificate on that role's listener.
    pub async fn client(&self, who: Who) -> Client {
        self.try_client(who).await.unwrap()
    }

    /// A channel with the given role's certificate on that role's listener, connecting from
    /// `from` (a loopback address): the agent counts some places per peer address.
    pub async fn channel_from(&self, who: Who, from: [u8; 4]) -> tonic::transport::Channel {
        let port = match who {
            Who::Host => self.host_port,
            Who::Operator => self.operator_port,
        };
        let options = self.options(who, port);
        let tls = dpu_pki::client_config(&options.ca, &options.cert, &options.key).unwrap();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls));
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect_with_connector(tower::service_fn(move |_| {
                let connector = connector.clone();
                async move {
                    let socket = tokio::net::TcpSocket::new_v4()?;
                    socket.bind(std::net::SocketAddr::from((from, 0)))?;
                    let tcp =
                        socket.connect(std::net::SocketAddr::from(([127, 0, 0, 1], port))).await?;
                    let name =
                        rustls_pki_types::ServerName::from(std::net::IpAddr::from([127, 0, 0, 1]));
                    let tls = connector.connect(name, tcp).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
                }
            }))
            .await
            .unwrap()
    }
}

/// Kills the dpu-system process serving `socket`, found through /proc.
pub fn kill_system_service(socket: &Path) -> Option<i32> {
    kill_service("dpu-system", socket)
}

/// Kills the `binary` process serving `socket` with SIGKILL and waits until it is gone.
pub fn kill_service(binary: &str, socket: &Path) -> Option<i32> {
    let pid = service_pid(binary, socket)?;
    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    // Wait until it is gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            && stat.contains(") Z ")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(pid)
}

pub fn system_service_pid(socket: &Path) -> Option<i32> {
    service_pid("dpu-system", socket)
}

/// The live `binary` process whose command line names `socket`, found through /proc.
pub fn service_pid(binary: &str, socket: &Path) -> Option<i32> {
    let needle = socket.display().to_string();
    for entry in std::fs::read_dir("/proc").ok()? {
        let Ok(entry) = entry else { continue };
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let args: Vec<String> =
            cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if args.first().is_some_and(|a| a.ends_with(binary)) && args.contains(&needle) {
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                && stat.contains(") Z ")
            {
                continue;
            }
            return Some(pid);
        }
    }
    None
}

impl Drop for Env {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Runs the real dpuctl against the agent with `who`'s certificate on that role's listener.
pub fn dpuctl(env: &Env, who: Who, args: &[&str]) -> std::process::Output {
    dpuctl_command(env, who, args).output().unwrap()
}

/// The command [`dpuctl`] runs, for a test that starts it and looks at it while it runs.
pub fn dpuctl_command(env: &Env, who: Who, args: &[&str]) -> Command {
    let (port, cert, key) = match who {
        Who::Host => (env.host_port, "certs/host.crt", "certs/host.key"),
        Who::Operator => (env.operator_port, "certs/operator.crt", "certs/operator.key"),
    };
    let mut command = Command::new(workspace_bin("dpuctl"));
    command
        .arg("--endpoint")
        .arg(format!("https://127.0.0.1:{port}"))
        .arg("--ca")
        .arg(env.path("certs/ca.crt"))
        .arg("--cert")
        .arg(env.path(cert))
        .arg("--key")
        .arg(env.path(key))
        .args(args);
    command
}

/// An HTTP/1.1 GET on 127.0.0.1:`port` (the metrics endpoint): the whole response, head and
/// body.
pub fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Stops process `pid` (SIGSTOP) and waits until each of its threads has stopped. The kill
/// returns before that: the kernel wakes one thread, which stops the others only once it
/// runs and takes the signal (the group stop, signal(7)), and till then they may still
/// answer, for long on a loaded machine.
pub async fn stop_process(pid: nix::unistd::Pid) {
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    wait_for("every thread of the process stopped", async || all_threads_stopped(pid)).await;
}

/// Whether every thread of `pid` is in state T, stopped by a signal (/proc/PID/task/TID/stat,
/// the field after the parenthesised command name: proc(5)).
fn all_threads_stopped(pid: nix::unistd::Pid) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    tasks.flatten().all(|task| {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
    })
}

/// Polls `check` every 50 ms until it holds; fails the test after 20 s.
pub async fn wait_for(what: &str, check: impl AsyncFnMut() -> bool) {
    wait_for_up_to(what, Duration::from_secs(20), check).await;
}

/// [`wait_for`] with a bound of its own, for what waits on a deadline of the agent's.
pub async fn wait_for_up_to(what: &str, bound: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + bound;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The field of the first google.rpc.BadRequest violation of an error ("" without one).
pub fn violation_field(e: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    e.get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

/// Asserts that `e` is INVALID_ARGUMENT naming `field` in its first violation.
#[track_caller]
pub fn assert_invalid(e: &tonic::Status, field: &str) {
    assert_eq!((e.code(), violation_field(e).as_str()), (tonic::Code::InvalidArgument, field));
}

/// Writes a 512-byte block of `byte` at `lba` of namespace 1 through `c`'s first I/O queue
/// and reads it back.
pub async fn write_and_read(c: &mut dpu_nvmf::initiator::HostController, lba: u64, byte: u8) {
    let data = vec![byte; 512];
    let w = c.io[0].write(1, lba, &data, 512).await.unwrap();
    assert!(w.cqe.status.is_success(), "{:?}", w.cqe);
    let r = c.io[0].read(1, lba, 1, 512).await.unwrap();
    assert!(r.cqe.status.is_success() && r.data == data, "{:?}", r.cqe);
}

/// Stdout of a successful run; panics with stderr otherwise.
pub fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "dpuctl failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs `scenario` on a thread inside the lab's dpu namespace, with its own tokio runtime:
/// the agent the scenario starts (and the services it supervises) live there, and the test's
/// gRPC client reaches the agent on that namespace's loopback.
pub fn in_dpu_namespace<'a, F>(
    lab: &'a dpu_lab::Lab,
    scenario: impl FnOnce(&'a dpu_lab::Lab) -> F + Send,
) where
    F: Future<Output = ()>,
{
    std::thread::scope(|s| {
        let thread = s.spawn(|| {
            let ns = std::fs::File::open(lab.ns_path(dpu_lab::Role::Dpu)).unwrap();
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(scenario(lab));
        });
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    });
}
