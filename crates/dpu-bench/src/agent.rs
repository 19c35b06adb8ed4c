//! Agent benchmarks: the cost of our mTLS + authorisation + metrics layers on a unary call
//! (against the same call on a plaintext tonic server in this run), declarative apply of 10,000
//! objects, start-up with 100,000 stored objects, and resident memory idle and after serving.

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

/// The file of sysctl `key` under the bench's sysctl root (`dev.start.k1`:
/// `sysctl/dev/start/k1`), as the system service resolves it.
fn sysctl_file(dir: &Path, key: &str) -> PathBuf {
    dir.join("sysctl").join(key.replace('.', "/"))
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
    let kib = dpu_runtime::process::resident_kib(Some(pid))
        .with_context(|| format!("no VmRSS for process {pid}"))?;
    Ok(kib as f64 / 1024.0)
}

/// The sysctl keys of the start-up step's objects.
fn start_key(i: usize) -> String {
    format!("dev.start.k{i}")
}

/// The apply step's sysctl keys.
fn apply_key(i: usize) -> String {
    format!("dev.bench.k{i}")
}

/// Creates the files of `keys` under the bench's sysctl root, so the system service
/// applies their objects (writes and reads back) as it does in /proc/sys, rather than
/// failing each at once for want of its file.
fn create_sysctl_files(dir: &Path, keys: impl Iterator<Item = String>) -> anyhow::Result<()> {
    for key in keys {
        let file = sysctl_file(dir, &key);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, "0\n").with_context(|| format!("creating {}", file.display()))?;
    }
    Ok(())
}

/// Writes the start-up step's `count` sysctl objects offline (the agent is not running)
/// to a fresh store in `dir`, replacing the one the apply step left (whose objects would
/// add to the count), with a file for each under the sysctl root.
async fn store_start_objects(dir: &Path, count: usize) -> anyhow::Result<()> {
    let state = dir.join("state");
    if state.exists() {
        std::fs::remove_dir_all(&state).context("removing the apply step's store")?;
    }
    create_sysctl_files(dir, (0..count).map(start_key))?;
    let store = dpu_store::Store::open(&state)?;
    let sysctls = store.collection::<SysctlSpec>("sysctls");
    for i in 0..count {
        let name = format!("sysctls/{}", start_key(i));
        sysctls.create(&name, &SysctlSpec { value: i.to_string() }).await?;
    }
    anyhow::ensure!(store.len() == count, "the store holds {} objects, not {count}", store.len());
    Ok(())
}

/// Fails unless the agent reports the sysctls `keys[i] = i` APPLIED with that value read
/// back within 30 s: the objects the bench times really went through the service.
async fn ensure_applied(
    dir: &Path,
    port: u16,
    keys: impl Iterator<Item = (String, usize)>,
) -> anyhow::Result<()> {
    use dpu_proto::dpu::system::v1::{ApplyState, GetSysctlRequest};
    let client = dpu_client::connect(&options(dir, port)).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    for (key, value) in keys {
        let name = format!("sysctls/{key}");
        loop {
            let got = client.system().get_sysctl(GetSysctlRequest { name: name.clone() }).await?;
            let status = got.into_inner().status.unwrap_or_default();
            if status.state == ApplyState::Applied as i32
                && status.observed_value.trim() == value.to_string()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("{name} is not applied within 30 s: {status:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

pub async fn run(bin_dir: &Path, scale_down: usize) -> anyhow::Result<()> {
    let scale = scale_down.max(1);
    let dir = tempfile::tempdir()?;
    dpu_pki::init_dev_pki(&dir.path().join("certs"), &dpu_pki::default_server_sans())?;
    let port = free_port()?;
    write_config(dir.path(), bin_dir, port)?;

    // 1. Idle resident memory of the agent: one second after it answered healthy, before
    // any other call (the health poll's client is dropped).
    let (agent, _) = start_agent(dir.path(), bin_dir, port).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    report::value("agent.idle_rss", rss_mib(agent.child.id())?, "MiB");

    // 2. Unary round trip: health Check over mTLS through the gate vs plaintext tonic.
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

    // The agent's resident memory after those calls, their mTLS connection still open
    // (what `idle_rss` measured until 2026-12-06).
    tokio::time::sleep(Duration::from_secs(1)).await;
    report::value("agent.rss_after_unary_calls", rss_mib(agent.child.id())?, "MiB");

    // 3. `dpuctl apply` of 10,000 objects in one manifest.
    let count = 10_000 / scale;
    let manifest = dir.path().join("many.yaml");
    let mut text = String::new();
    for i in 0..count {
        text.push_str(&format!(
            "kind: Sysctl\nname: {}\nspec:\n  value: \"{i}\"\n---\n",
            apply_key(i)
        ));
    }
    std::fs::write(&manifest, text)?;
    create_sysctl_files(dir.path(), (0..count).map(apply_key))?;
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
    let sample =
        |n: usize, key: fn(usize) -> String| [0, n / 2, n.saturating_sub(1)].map(|i| (key(i), i));
    ensure_applied(dir.path(), agent.port, sample(count, apply_key).into_iter()).await?;
    drop(client);
    drop(agent);

    // 4. Start-up with 100,000 stored objects (written offline, then the agent is started).
    let big = 100_000 / scale;
    store_start_objects(dir.path(), big).await?;
    let (agent, took) = start_agent(dir.path(), bin_dir, port).await?;
    report::value("agent.start_100k_objects", took.as_secs_f64(), "s");
    ensure_applied(dir.path(), agent.port, sample(big, start_key).into_iter()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start-up step's store holds its objects alone (not the apply step's, which
    /// ran against the same directory), and each has its file under the sysctl root, so
    /// the system service really applies it rather than failing it at once.
    #[tokio::test]
    async fn the_start_up_store_holds_exactly_its_objects_each_with_a_file() {
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), Path::new("/nonexistent"), 1).unwrap();
        {
            // What the apply step leaves behind.
            let store = dpu_store::Store::open(&dir.path().join("state")).unwrap();
            let sysctls = store.collection::<SysctlSpec>("sysctls");
            for i in 0..7 {
                let spec = SysctlSpec { value: i.to_string() };
                sysctls.create(&format!("sysctls/{}", apply_key(i)), &spec).await.unwrap();
            }
        }
        store_start_objects(dir.path(), 50).await.unwrap();
        let store = dpu_store::Store::open(&dir.path().join("state")).unwrap();
        assert_eq!(store.len(), 50);
        let sysctls = store.collection::<SysctlSpec>("sysctls");
        for i in [0, 49] {
            let name = format!("sysctls/{}", start_key(i));
            assert!(sysctls.get(&name).unwrap().is_some(), "{name} not stored");
            let file = sysctl_file(dir.path(), &start_key(i));
            assert!(file.is_file(), "{} missing", file.display());
        }
    }
}
