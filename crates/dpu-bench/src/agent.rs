//! Agent benchmarks: the cost of our mTLS + authorisation + metrics layers on a unary call
//! (against the same call on a plaintext tonic server in this run), declarative apply of 10,000
//! objects, start-up with 100,000 stored objects, and idle memory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dpu_client::ConnectOptions;
use dpu_proto::dpu::system::v1::{GetHealthRequest, ServingState, SysctlSpec};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::report;

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Agent {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The supervised service is stopped by the agent on SIGTERM; after SIGKILL find it.
        let _ =
            Command::new("pkill").arg("-9").arg("-f").arg(self.dir.join("system.sock")).status();
    }
}

fn write_config(dir: &Path, bin_dir: &Path, port: u16) -> anyhow::Result<()> {
    use dpud::config::{Config, Listener, Service};
    let sysctl_root = dir.join("sysctl");
    std::fs::create_dir_all(&sysctl_root)?;
    let system = Service::supervised(
        "system",
        &bin_dir.join("dpu-system"),
        &dir.join("system.sock"),
        &["--sysctl-root", &sysctl_root.display().to_string(), "--log-level", "error"],
    );
    let mut config = Config::development(
        vec![Listener::new("operator", std::net::SocketAddr::from(([127, 0, 0, 1], port)))],
        vec![system],
    );
    config.log_level = "warn".into();
    std::fs::write(dir.join("dpud.toml"), config.to_toml()?)?;
    Ok(())
}

fn options(dir: &Path, port: u16) -> ConnectOptions {
    ConnectOptions {
        endpoint: format!("https://127.0.0.1:{port}"),
        ca: dir.join("certs/ca.crt"),
        cert: dir.join("certs/operator.crt"),
        key: dir.join("certs/operator.key"),
        timeout: Duration::from_secs(30),
    }
}

/// Starts dpud and returns it with the time until it answered healthy with its service synced.
async fn start_agent(dir: &Path, bin_dir: &Path, port: u16) -> anyhow::Result<(Agent, Duration)> {
    let started = Instant::now();
    let child = Command::new(bin_dir.join("dpud"))
        .arg("--config")
        .arg(dir.join("dpud.toml"))
        .stdin(Stdio::null())
        .spawn()
        .context("starting dpud")?;
    let agent = Agent { child, port, dir: dir.to_owned() };
    let deadline = started + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Ok(client) = dpu_client::connect(&options(dir, port)).await
            && let Ok(h) = client.system().get_health(GetHealthRequest {}).await
            && h.get_ref().services.iter().all(|s| s.state == ServingState::Serving as i32)
        {
            return Ok((agent, started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("dpud did not become healthy within 300 s")
}

async fn unary_latencies(
    mut call: impl AsyncFnMut() -> anyhow::Result<()>,
    n: usize,
) -> anyhow::Result<Vec<f64>> {
    for _ in 0..n / 10 {
        call().await?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        call().await?;
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples)
}

/// A plaintext tonic server with the standard health service: the same call without our layers.
/// Runs until killed; `run` starts it as a child process so both servers cross a process
/// boundary the same way.
pub async fn serve_plaintext_peer(port: u16) -> anyhow::Result<()> {
    let (_reporter, health) = tonic_health::server::health_reporter();
    tonic::transport::Server::builder()
        .add_service(health)
        .serve(format!("127.0.0.1:{port}").parse()?)
        .await?;
    Ok(())
}

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_plaintext_peer() -> anyhow::Result<(u16, Peer)> {
    let port = free_port()?;
    let child = Command::new(std::env::current_exe()?)
        .args(["plaintext-peer", "--port", &port.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .context("starting the plaintext peer")?;
    let peer = Peer(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the plaintext peer did not listen within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((port, peer))
}

fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    Ok(kib / 1024.0)
}

pub async fn run(bin_dir: &Path, scale_down: usize) -> anyhow::Result<()> {
    let scale = scale_down.max(1);
    let dir = tempfile::tempdir()?;
    dpu_pki::init_dev_pki(&dir.path().join("certs"), &dpu_pki::default_server_sans())?;
    let port = free_port()?;
    write_config(dir.path(), bin_dir, port)?;

    // 1. Unary round trip: health Check over mTLS through the gate vs plaintext tonic.
    let (agent, _) = start_agent(dir.path(), bin_dir, port).await?;
    let client = dpu_client::connect(&options(dir.path(), agent.port)).await?;
    let mut ours = HealthClient::new(client.channel());
    let n = 5_000 / scale;
    let ours_samples = unary_latencies(
        async || {
            ours.check(HealthCheckRequest { service: String::new() }).await?;
            Ok(())
        },
        n,
    )
    .await?;
    let (plain_port, plain_peer) = start_plaintext_peer().await?;
    let plain_channel =
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{plain_port}"))?
            .connect()
            .await?;
    let mut plain = HealthClient::new(plain_channel);
    let plain_samples = unary_latencies(
        async || {
            plain.check(HealthCheckRequest { service: String::new() }).await?;
            Ok(())
        },
        n,
    )
    .await?;
    drop(plain_peer);
    for (q, name) in
        [(0.5, "agent.unary_p50_mtls_vs_plaintext"), (0.99, "agent.unary_p99_mtls_vs_plaintext")]
    {
        report::compared(
            name,
            report::percentile(&ours_samples, q) * 1e6,
            "us",
            "plaintext tonic",
            report::percentile(&plain_samples, q) * 1e6,
            false,
        );
    }

    // 2. Idle resident memory of the agent.
    tokio::time::sleep(Duration::from_secs(1)).await;
    report::value("agent.idle_rss", rss_mib(agent.child.id())?, "MiB");

    // 3. `dpuctl apply` of 10,000 objects in one manifest.
    let count = 10_000 / scale;
    let manifest = dir.path().join("many.yaml");
    let mut text = String::new();
    for i in 0..count {
        text.push_str(&format!(
            "kind: Sysctl\nname: dev.bench.k{i}\nspec:\n  value: \"{i}\"\n---\n"
        ));
    }
    std::fs::write(&manifest, text)?;
    let t = Instant::now();
    let out = Command::new(bin_dir.join("dpuctl"))
        .arg("--endpoint")
        .arg(format!("https://127.0.0.1:{}", agent.port))
        .arg("--ca")
        .arg(dir.path().join("certs/ca.crt"))
        .arg("--cert")
        .arg(dir.path().join("certs/operator.crt"))
        .arg("--key")
        .arg(dir.path().join("certs/operator.key"))
        .arg("apply")
        .arg("-f")
        .arg(&manifest)
        .stdout(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!("dpuctl apply failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    report::value("agent.apply_10k_objects", t.elapsed().as_secs_f64(), "s");
    drop(client);
    drop(agent);

    // 4. Start-up with 100,000 stored objects (written offline, then the agent is started).
    let big = 100_000 / scale;
    {
        let store = dpu_store::Store::open(&dir.path().join("state"))?;
        let sysctls = store.collection::<SysctlSpec>("sysctls");
        for i in 0..big {
            sysctls
                .create(&format!("sysctls/dev.start.k{i}"), &SysctlSpec { value: i.to_string() })
                .await?;
        }
    }
    let (_agent, took) = start_agent(dir.path(), bin_dir, port).await?;
    report::value("agent.start_100k_objects", took.as_secs_f64(), "s");
    Ok(())
}
