//! `cargo xtask demo`: the agent on a virtual card, driven from the host the way a user would.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dpu_lab::{Lab, LabOptions, LabProcess, Role, SpawnOptions};

use crate::util::{self, Steps, cargo, run};
use crate::{demo_guest, demo_switch, prereq};

/// Namespaces of the demo's lab are named `dm<pid>n<counter>-<role>`.
pub const DEMO_BASE: &str = dpu_lab::DEMO_PREFIX_BASE;

const HOST_ENDPOINT: &str = "https://192.168.100.2:50051";
const OPERATOR_ENDPOINT: &str = "https://127.0.0.1:50052";
const METRICS_URL: &str = "http://192.168.100.2:9102/metrics";
const BINARIES: &[(&str, &str)] = &[
    ("dpud", "crates/dpud"),
    ("dpuctl", "crates/dpuctl"),
    ("dpu-system", "crates/dpu-system"),
    ("dpu-nvmf", "crates/dpu-nvmf"),
    ("dpu-switch", "crates/dpu-switch"),
];

/// The NVMe/TCP listener: the dpu namespace's uplink address, the IANA NVMe/TCP port.
const NVMF_LISTEN: &str = "198.51.100.1:4420";
const NVMF_IP: &str = "198.51.100.1";
const NVMF_PORT: u16 = 4420;
/// A second listener on the uplink: the guest's second path.
const NVMF_SECOND_PORT: u16 = 4421;
const NVMF_NQN: &str = "nqn.2024-01.io.example.demo:ram0";
/// The demo namespace's API name.
const NVMF_NAMESPACE: &str = "subsystems/demo/namespaces/1";
const NVMF_HOST_NQN: &str = "nqn.2014-08.org.example:demo-fabric-host";
/// A second host of the subsystem, which must authenticate (DH-HMAC-CHAP).
const NVMF_AUTH_HOST_NQN: &str = "nqn.2014-08.org.example:demo-authenticated-host";

/// The demo volume's size, and its size after the operator grows it under the guest.
const NVMF_VOLUME_BYTES: u64 = 16 << 20;
const NVMF_GROWN_BYTES: u64 = 32 << 20;

fn nvmf_manifest() -> String {
    format!(
        r#"{}
---
{}
---
{}
---
{}
---
kind: Listener
name: uplink-b
spec: {{trtype: TRANSPORT_TYPE_TCP, address: 198.51.100.1, port: {NVMF_SECOND_PORT}}}
"#,
        nvmf_volume(NVMF_VOLUME_BYTES),
        nvmf_subsystem(""),
        nvmf_namespace(""),
        nvmf_uplink(""),
    )
}

/// The demo's subsystem, with `extra` lines appended to its spec (e.g. host secrets).
fn nvmf_subsystem(extra: &str) -> String {
    format!(
        "kind: Subsystem\nname: demo\nspec:\n  nqn: {NVMF_NQN}\n  serialNumber: DEMO0001\n  modelNumber: dpu demo\n  allowedHosts: [{NVMF_HOST_NQN}, {NVMF_AUTH_HOST_NQN}]\n{extra}"
    )
}

/// The demo's namespace, with `extra` appended to its spec (e.g. `readOnly: true`).
fn nvmf_namespace(extra: &str) -> String {
    format!("kind: Namespace\nname: demo/namespaces/1\nspec: {{volume: volumes/ram0{extra}}}")
}

/// The first listener, with `extra` appended to its spec (e.g. its ANA states).
fn nvmf_uplink(extra: &str) -> String {
    format!(
        "kind: Listener\nname: uplink\nspec: {{trtype: TRANSPORT_TYPE_TCP, address: {NVMF_IP}, port: {NVMF_PORT}{extra}}}"
    )
}

/// The demo's RAM volume of `bytes`.
fn nvmf_volume(bytes: u64) -> String {
    format!(
        r#"kind: Volume
name: ram0
spec:
  ram: {{sizeBytes: "{bytes}"}}
  blockSize: 512"#
    )
}

const SYSCTL_MANIFEST: &str = "\
kind: Sysctl
name: net.ipv4.ip_forward
spec:
  value: \"1\"
";

/// The dpud configuration of the demo (relative paths are relative to the file).
fn dpud_config(bin_dir: &Path, work: &Path) -> Result<String> {
    use dpud::config::{Config, Listener, Metrics, Service};
    let service = |name: &str, binary: &str, extra: &[&str]| {
        Service::supervised(
            name,
            &bin_dir.join(binary),
            &work.join(format!("run/{name}.sock")),
            extra,
        )
    };
    let config = Config {
        metrics: Some(Metrics { address: "192.168.100.2:9102".parse()? }),
        ..Config::development(
            vec![
                Listener::new("host", "192.168.100.2:50051".parse()?)
                    .capped_at(dpu_pki::Role::Host),
                Listener::new("operator", "127.0.0.1:50052".parse()?),
            ],
            vec![
                service("system", "dpu-system", &["--sysctl-root", "/proc/sys"]),
                service(
                    "nvmf",
                    "dpu-nvmf",
                    &["--state-dir", &work.join("nvmf-state").display().to_string()],
                ),
                service("switch", "dpu-switch", &[]),
            ],
        )
    };
    Ok(format!(
        "# Written by `cargo xtask demo`. The host-facing listener on tmfifo gives any client at\n\
         # most the host role; operator changes come through the management side.\n{}",
        config.to_toml()?
    ))
}

/// Who calls: through which listener, with which certificate, from which namespace.
#[derive(Clone, Copy)]
enum Caller {
    /// Host certificate, host-facing listener, from the host namespace.
    Host,
    /// Operator certificate through the host-facing listener (capped to the host role there).
    OperatorViaHost,
    /// Operator certificate on the management listener, on the card.
    Operator,
}

struct Demo {
    bin_dir: PathBuf,
    // Field order is drop order: the agent stops before its lab goes away.
    dpud: Option<LabProcess>,
    lab: Option<Lab>,
    interrupted: Arc<AtomicBool>,
    summary: Vec<String>,
    /// Last, so removed last: dpud, its services and the lab write into it until they stop.
    work: tempfile::TempDir,
}

impl Demo {
    fn certs(&self) -> PathBuf {
        self.work.path().join("certs")
    }

    fn lab(&self) -> Result<&Lab> {
        self.lab.as_ref().context("the lab is not up")
    }

    fn check_interrupt(&self) -> Result<()> {
        if self.interrupted.load(Ordering::SeqCst) {
            bail!("interrupted");
        }
        Ok(())
    }

    /// `dpuctl` argv for `caller`, then `args`.
    fn dpuctl_argv(&self, caller: Caller, args: &[&str]) -> (Role, Vec<String>) {
        let certs = self.certs();
        let (role, endpoint, who) = match caller {
            Caller::Host => (Role::Host, HOST_ENDPOINT, "host"),
            Caller::OperatorViaHost => (Role::Host, HOST_ENDPOINT, "operator"),
            Caller::Operator => (Role::Dpu, OPERATOR_ENDPOINT, "operator"),
        };
        let path = |f: &str| certs.join(f).display().to_string();
        let mut argv = vec![
            self.bin_dir.join("dpuctl").display().to_string(),
            "--endpoint".into(),
            endpoint.into(),
            "--ca".into(),
            path("ca.crt"),
            "--cert".into(),
            path(&format!("{who}.crt")),
            "--key".into(),
            path(&format!("{who}.key")),
        ];
        argv.extend(args.iter().map(|s| s.to_string()));
        (role, argv)
    }

    fn dpuctl_output(&self, caller: Caller, args: &[&str]) -> Result<Output> {
        let (role, argv) = self.dpuctl_argv(caller, args);
        println!("    [{} ns] $ {}", role, shorten(&argv.join(" "), self.work.path()));
        Ok(self.lab()?.exec_in(role, &argv)?)
    }

    /// Runs dpuctl and requires success; prints what it printed.
    fn dpuctl(&mut self, caller: Caller, args: &[&str]) -> Result<String> {
        self.check_interrupt()?;
        let out = self.dpuctl_output(caller, args)?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        print_indented(&stdout);
        print_indented(&String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            bail!("dpuctl {} failed ({})", args.join(" "), out.status);
        }
        Ok(stdout)
    }

    /// Runs dpuctl and requires a PERMISSION_DENIED refusal.
    fn dpuctl_refused(&mut self, caller: Caller, args: &[&str]) -> Result<()> {
        self.check_interrupt()?;
        let out = self.dpuctl_output(caller, args)?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        print_indented(&text);
        if out.status.success() {
            bail!("dpuctl {} SUCCEEDED but must be refused with PERMISSION_DENIED", args.join(" "));
        }
        if !text.contains("PERMISSION_DENIED") {
            bail!("dpuctl {} failed, but not with PERMISSION_DENIED", args.join(" "));
        }
        println!("    refused with PERMISSION_DENIED, as expected");
        Ok(())
    }

    fn dpud_log(&self) -> PathBuf {
        self.work.path().join("dpud.log")
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dpud_log()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn start_dpud(&mut self) -> Result<()> {
        let config = self.work.path().join("dpud.toml");
        let log = File::create(self.dpud_log()).context("creating dpud.log")?;
        let log2 = log.try_clone()?;
        let mut cmd = Command::new(self.bin_dir.join("dpud"));
        cmd.arg("--config").arg(&config);
        println!(
            "    [dpu ns] $ {} --config {}",
            self.bin_dir.join("dpud").display(),
            config.display()
        );
        println!("    agent log: {}", self.dpud_log().display());
        let stdio = SpawnOptions { stdin: Stdio::null(), stdout: log.into(), stderr: log2.into() };
        let proc = self.lab()?.spawn_in_with(Role::Dpu, cmd, stdio)?;
        self.dpud = Some(proc);

        // Bounded wait: the agent answers health over tmfifo, or we give up after 40 s.
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            self.check_interrupt()?;
            if let Some(p) = self.dpud.as_mut()
                && let Some(status) = p.try_wait()?
            {
                bail!("dpud exited ({status}) before answering; its log:\n{}", self.log_tail());
            }
            let (role, argv) = self.dpuctl_argv(Caller::Host, &["--timeout", "2", "health"]);
            let out = self.lab()?.exec_in_timeout(role, &argv, Duration::from_secs(10))?;
            if out.status.success() {
                println!("    dpud answers on {HOST_ENDPOINT}");
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "dpud did not answer within 40 s (last: {}); its log:\n{}",
                    String::from_utf8_lossy(&out.stderr).trim(),
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// `xtask nvmf-io` in the fabric namespace as `hostnqn` (with the secret in
    /// `secret_file`), printing what it prints.
    fn fabric_nvmf_io(&mut self, hostnqn: &str, secret_file: Option<&Path>) -> Result<Output> {
        self.check_interrupt()?;
        let exe = self.xtask_exe()?;
        let mut argv =
            vec![exe.display().to_string(), "nvmf-io".into(), NVMF_LISTEN.into(), NVMF_NQN.into()];
        argv.push(hostnqn.into());
        let mut shown = format!("xtask nvmf-io {NVMF_LISTEN} {NVMF_NQN} {hostnqn}");
        if let Some(f) = secret_file {
            argv.extend(["--dhchap-secret-file".into(), f.display().to_string()]);
            shown += &format!(
                " --dhchap-secret-file {}",
                shorten(&f.display().to_string(), self.work.path())
            );
        }
        println!("    [fabric ns] $ {shown}");
        let out = self.lab()?.exec_in_timeout(Role::Fabric, &argv, Duration::from_secs(60))?;
        print_indented(&String::from_utf8_lossy(&out.stdout));
        // The error, not the backtrace anyhow adds under RUST_BACKTRACE.
        let err = String::from_utf8_lossy(&out.stderr);
        print_indented(err.split("Stack backtrace:").next().unwrap_or_default().trim_end());
        Ok(out)
    }

    /// The xtask binary to run inside namespaces.
    fn xtask_exe(&self) -> Result<PathBuf> {
        // The workspace build may have relinked xtask (and unlinked the running binary): prefer
        // the fresh one in the target directory.
        let built = util::target_dir().join("debug").join("xtask");
        if built.is_file() {
            Ok(built)
        } else {
            std::env::current_exe().context("locating the xtask binary")
        }
    }

    /// Bounded wait until `dpuctl list KIND` (host role) shows every row APPLIED.
    fn wait_applied(&mut self, kind: &str) -> Result<()> {
        self.wait_applied_as(Caller::Host, kind)
    }

    /// Bounded wait until `dpuctl list KIND` as `caller` shows every row APPLIED.
    fn wait_applied_as(&mut self, caller: Caller, kind: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.check_interrupt()?;
            let (role, argv) = self.dpuctl_argv(caller, &["list", kind]);
            let out = self.lab()?.exec_in_timeout(role, &argv, Duration::from_secs(10))?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let rows: Vec<&str> = text.lines().skip(1).filter(|l| !l.trim().is_empty()).collect();
            if out.status.success()
                && !rows.is_empty()
                && rows.iter().all(|l| l.contains("APPLIED"))
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{kind} not APPLIED within 30 s:\n{text}\nagent log:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn metrics(&mut self) -> Result<()> {
        self.check_interrupt()?;
        let exe = self.xtask_exe()?;
        let argv = [exe.display().to_string(), "http-get".into(), METRICS_URL.into()];
        println!("    [host ns] $ GET {METRICS_URL}");
        let out = self.lab()?.exec_in(Role::Host, &argv)?;
        if !out.status.success() {
            bail!("GET {METRICS_URL} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        let body = String::from_utf8_lossy(&out.stdout);
        let counters: Vec<&str> = body
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| {
                l.split(['{', ' ']).next().is_some_and(|name| name.ends_with("requests_total"))
            })
            .collect();
        if counters.is_empty() {
            bail!("the metrics endpoint has no *_requests_total counters:\n{body}");
        }
        println!("    agent request counters:");
        for line in &counters {
            println!("      {line}");
        }
        let value = |l: &str| l.rsplit(' ').next()?.parse::<f64>().ok();
        let denied: u64 = counters
            .iter()
            .filter(|l| l.contains("PERMISSION_DENIED"))
            .filter_map(|l| value(l))
            .map(|v| v as u64)
            .sum();
        // The NVMe/TCP target's counters, read from the nvmf service at each scrape.
        if !body.lines().any(|l| l == "dpu_nvmf_stats_up 1") {
            bail!("the metrics endpoint did not read the nvmf service's statistics:\n{body}");
        }
        let bytes: Vec<&str> = body
            .lines()
            .filter(|l| l.starts_with("dpu_nvmf_namespace_read_bytes_total{"))
            .chain(body.lines().filter(|l| l.starts_with("dpu_nvmf_namespace_write_bytes_total{")))
            .collect();
        println!("    NVMe/TCP namespace byte counters:");
        for line in &bytes {
            println!("      {line}");
        }
        let total = |prefix: &str| -> f64 {
            bytes.iter().filter(|l| l.starts_with(prefix)).filter_map(|l| value(l)).sum()
        };
        let (read, written) = (
            total("dpu_nvmf_namespace_read_bytes_total"),
            total("dpu_nvmf_namespace_write_bytes_total"),
        );
        if read == 0.0 || written == 0.0 {
            bail!("the guest's I/O should show in the namespace byte counters:\n{body}");
        }
        self.summary.push(format!(
            "metrics: {} request counter series; {denied} request(s) refused with PERMISSION_DENIED; NVMe/TCP namespaces read {:.1} MiB, written {:.1} MiB",
            counters.len(),
            read / 1048576.0,
            written / 1048576.0
        ));
        Ok(())
    }
}

/// Writes `text` to a new file only its owner may read (a secret).
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

fn shorten(s: &str, work: &Path) -> String {
    s.replace(&format!("{}/", work.display()), "$DEMO/")
}

fn print_indented(text: &str) {
    for line in text.lines() {
        println!("      {line}");
    }
}

pub fn run_demo() -> Result<()> {
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&interrupted);
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let bin_dir = util::target_dir().join("debug");
    let mut demo = Demo {
        bin_dir,
        dpud: None,
        lab: None,
        interrupted,
        summary: Vec::new(),
        work: tempfile::Builder::new().prefix("dpu-demo-").tempdir()?,
    };
    println!("xtask demo: the agent on a virtual card (work dir {})", demo.work.path().display());
    let mut steps = Steps::new("xtask demo", 23);

    steps.step("prerequisites (iproute2)", || prereq::ensure_apt(prereq::LAB_APT))?;
    steps.step("build: cargo build --workspace --bins", || {
        run(cargo().args(["build", "--workspace", "--bins"]))?;
        for (bin, krate) in BINARIES {
            let path = demo.bin_dir.join(bin);
            if !path.is_file() {
                bail!(
                    "{} was not built: the demo needs the `{bin}` binary from {krate}",
                    path.display()
                );
            }
        }
        Ok(())
    })?;
    steps.step(
        "lab: namespaces host, dpu, vm1, vm2, fabric with tmfifo and representors",
        || {
            demo.check_interrupt()?;
            let lab =
                Lab::up(LabOptions { prefix_base: DEMO_BASE.into(), ..LabOptions::default() })?;
            crate::lab::print_topology(&lab);
            demo.summary.push(format!("lab {} up", lab.prefix()));
            demo.lab = Some(lab);
            Ok(())
        },
    )?;
    steps.step("certificates: dpuctl certs init", || {
        let certs = demo.certs();
        run(Command::new(demo.bin_dir.join("dpuctl")).args(["certs", "init"]).arg(&certs))?;
        for f in [
            "ca.crt",
            "server.crt",
            "server.key",
            "host-ca.crt",
            "operator-ca.crt",
            "host.crt",
            "host.key",
            "operator.crt",
            "operator.key",
        ] {
            if !certs.join(f).is_file() {
                bail!("dpuctl certs init did not write {f}");
            }
        }
        Ok(())
    })?;
    steps.step("config: write dpud.toml", || {
        let path = demo.work.path().join("dpud.toml");
        fs::create_dir_all(demo.work.path().join("run"))?;
        let text = dpud_config(&demo.bin_dir, demo.work.path())?;
        fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        println!("    wrote {}:", path.display());
        print_indented(&shorten(&text, demo.work.path()));
        Ok(())
    })?;
    steps.step("agent: start dpud in the dpu namespace and wait until it answers", || {
        demo.start_dpud()
    })?;
    steps.step("host: dpuctl inventory", || demo.dpuctl(Caller::Host, &["inventory"]).map(drop))?;
    steps.step("host: dpuctl health", || demo.dpuctl(Caller::Host, &["health"]).map(drop))?;

    let manifest = demo.work.path().join("ip_forward.yaml");
    fs::write(&manifest, SYSCTL_MANIFEST)?;
    let manifest = manifest.display().to_string();
    steps.step("host: apply a sysctl with the host certificate (must be refused)", || {
        demo.dpuctl_refused(Caller::Host, &["apply", "-f", &manifest])?;
        println!("    and the operator certificate through the host-facing listener:");
        demo.dpuctl_refused(Caller::OperatorViaHost, &["apply", "-f", &manifest])?;
        demo.summary.push(
            "host-side apply refused with PERMISSION_DENIED (host and operator certs)".into(),
        );
        Ok(())
    })?;
    steps.step("operator: apply the sysctl on the management listener", || {
        demo.dpuctl(Caller::Operator, &["apply", "-f", &manifest])?;
        let out = demo.lab()?.run_in(Role::Dpu, ["cat", "/proc/sys/net/ipv4/ip_forward"])?;
        let value = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        println!("    net.ipv4.ip_forward in the dpu namespace is now {value}");
        if value != "1" {
            bail!("the apply succeeded but net.ipv4.ip_forward in the dpu namespace is {value:?}");
        }
        demo.summary.push("operator apply succeeded; ip_forward=1 on the card".into());
        Ok(())
    })?;
    steps.step("host: dpuctl get sysctl net.ipv4.ip_forward -o yaml", || {
        demo.dpuctl(Caller::Host, &["get", "sysctl", "net.ipv4.ip_forward", "-o", "yaml"]).map(drop)
    })?;
    steps.step("host: dpuctl list sysctls", || {
        demo.dpuctl(Caller::Host, &["list", "sysctls"]).map(drop)
    })?;
    let nvmf_yaml = demo.work.path().join("nvmf.yaml");
    fs::write(&nvmf_yaml, nvmf_manifest())?;
    let nvmf_yaml = nvmf_yaml.display().to_string();
    steps.step(
        "operator: apply an NVMe-oF manifest (RAM volume, subsystem, namespace, listeners 198.51.100.1:4420 and :4421)",
        || {
            print_indented(&nvmf_manifest());
            demo.dpuctl(Caller::Operator, &["apply", "-f", &nvmf_yaml])?;
            for kind in ["volumes", "subsystems", "namespaces", "listeners"] {
                demo.wait_applied(kind)?;
            }
            println!("    every object is APPLIED by the supervised dpu-nvmf");
            demo.summary.push(format!(
                "operator applied volume, subsystem, namespace, listeners {NVMF_LISTEN} and :{NVMF_SECOND_PORT}: all APPLIED"
            ));
            Ok(())
        },
    )?;
    steps.step("host: dpuctl list volumes, subsystems, namespaces, listeners", || {
        for kind in ["volumes", "subsystems", "namespaces", "listeners"] {
            demo.dpuctl(Caller::Host, &["list", kind])?;
        }
        let subsystems = demo.dpuctl(Caller::Host, &["get", "subsystem", "demo", "-o", "yaml"])?;
        if !subsystems.contains(NVMF_NQN) {
            bail!("dpuctl get subsystem demo does not show {NVMF_NQN}");
        }
        Ok(())
    })?;
    steps.step(
        "fabric: NVMe/TCP initiator connects to 198.51.100.1:4420, writes and reads back 4 KiB",
        || {
            let out = demo.fabric_nvmf_io(NVMF_HOST_NQN, None)?;
            if !out.status.success() {
                bail!("the NVMe/TCP client failed ({}); agent log:\n{}", out.status, demo.log_tail());
            }
            demo.summary.push(format!(
                "NVMe/TCP from the fabric namespace: connected to {NVMF_LISTEN}, wrote and read back 4 KiB"
            ));
            Ok(())
        },
    )?;
    // The second host's DH-HMAC-CHAP secret: in the subsystem's manifest (write-only in the
    // API) and in the host's file, both 0600.
    let secret = dpu_nvmf::dhchap::Secret::new(
        &dpu_nvmf::dhchap::random_bytes(32).context("random bytes")?,
        1,
    )?;
    let secret_file = demo.work.path().join("auth-host.secret");
    write_private(&secret_file, &secret.to_text())?;
    let auth = nvmf_subsystem(&format!(
        "  hostSecrets:\n  - hostNqn: {NVMF_AUTH_HOST_NQN}\n    dhchapSecret: \"{}\"\n    dhGroup: DH_GROUP_FFDHE2048\n",
        secret.to_text().as_str()
    ));
    let auth_yaml = demo.work.path().join("nvmf-auth.yaml");
    write_private(&auth_yaml, &auth)?;
    let auth_yaml = auth_yaml.display().to_string();
    steps.step(
        "operator: the second host must authenticate (DH-HMAC-CHAP, ffdhe2048); without its secret it is refused, with it it writes and reads back",
        || {
            print_indented(&nvmf_subsystem(&format!(
                "  hostSecrets:\n  - hostNqn: {NVMF_AUTH_HOST_NQN}\n    dhchapSecret: \"DHHC-1:01:(32 random bytes, base64):\"\n    dhGroup: DH_GROUP_FFDHE2048\n"
            )));
            demo.dpuctl(Caller::Operator, &["apply", "-f", &auth_yaml])?;
            demo.wait_applied("subsystems")?;
            let table = demo.dpuctl(Caller::Host, &["list", "subsystems"])?;
            if !table.contains("1 host") {
                bail!("dpuctl list subsystems does not show the host that must authenticate");
            }
            if demo.fabric_nvmf_io(NVMF_AUTH_HOST_NQN, None)?.status.success() {
                bail!("a host without its secret was let in");
            }
            println!("    refused without the secret, as it must be");
            let out = demo.fabric_nvmf_io(NVMF_AUTH_HOST_NQN, Some(&secret_file))?;
            if !out.status.success() {
                bail!("the authenticated host failed ({}); agent log:\n{}", out.status, demo.log_tail());
            }
            demo.summary.push(format!(
                "DH-HMAC-CHAP: {NVMF_AUTH_HOST_NQN} refused without its secret, authenticated with it (ffdhe2048) and did I/O; the API shows the secret nowhere"
            ));
            Ok(())
        },
    )?;
    let grown_yaml = demo.work.path().join("nvmf-grown.yaml");
    fs::write(&grown_yaml, nvmf_volume(NVMF_GROWN_BYTES))?;
    let grown_yaml = grown_yaml.display().to_string();
    // Draining the first listener: ANA group 1 (the namespace's) inaccessible through it.
    let drain = nvmf_uplink(", anaGroups: [{group: 1, state: ANA_STATE_INACCESSIBLE}]");
    let drain_yaml = demo.work.path().join("nvmf-drain.yaml");
    fs::write(&drain_yaml, &drain)?;
    let drain_yaml = drain_yaml.display().to_string();
    // Freezing the namespace: write protected, the hosts read it only.
    let read_only = nvmf_namespace(", readOnly: true");
    let read_only_yaml = demo.work.path().join("nvmf-read-only.yaml");
    fs::write(&read_only_yaml, &read_only)?;
    let read_only_yaml = read_only_yaml.display().to_string();
    steps.step(
        "fabric: a QEMU guest (Linux nvme-tcp, nvme-cli) connects to 198.51.100.1:4420 through slirp, writes, reconnects, reads back; the operator grows the volume under it, drains the listener it uses (multipath over :4421), lifts the write protection the guest set until restart, then makes the namespace read-only",
        || {
            demo.check_interrupt()?;
            let target = demo_guest::NvmfTarget {
                ip: NVMF_IP,
                port: NVMF_PORT,
                second_port: NVMF_SECOND_PORT,
                subnqn: NVMF_NQN,
                hostnqn: NVMF_HOST_NQN,
                grown_sectors: NVMF_GROWN_BYTES / 512,
            };
            // While the guest is connected: `dpuctl apply` of the volume with a larger size,
            // then of the first listener with its ANA group inaccessible, then of the
            // namespace read-only.
            let grown = nvmf_volume(NVMF_GROWN_BYTES);
            let mut operator = |lab: &Lab, mark: &str| -> Result<()> {
                let args = match mark {
                    demo_guest::WANT_CLEAR_HOST_WP => {
                        vec!["nvmf", "clear-host-write-protection", NVMF_NAMESPACE]
                    }
                    _ => {
                        let (text, file) = match mark {
                            demo_guest::WANT_GROW => (&grown, &grown_yaml),
                            demo_guest::WANT_DRAIN => (&drain, &drain_yaml),
                            _ => (&read_only, &read_only_yaml),
                        };
                        print_indented(text);
                        vec!["apply", "-f", file.as_str()]
                    }
                };
                let (role, argv) = demo.dpuctl_argv(Caller::Operator, &args);
                println!("    [{role} ns] $ {}", shorten(&argv.join(" "), demo.work.path()));
                let out = lab.exec_in_timeout(role, &argv, Duration::from_secs(30))?;
                print_indented(&String::from_utf8_lossy(&out.stdout));
                print_indented(&String::from_utf8_lossy(&out.stderr));
                if !out.status.success() {
                    bail!("dpuctl {} failed ({})", args.join(" "), out.status);
                }
                Ok(())
            };
            demo_guest::run(demo.lab()?, demo.work.path(), &target, &demo.interrupted, &mut operator)?;
            demo.wait_applied("volumes")?;
            demo.wait_applied("listeners")?;
            demo.wait_applied("namespaces")?;
            demo.summary.push(format!(
                "Linux guest in QEMU (fabric namespace): nvme discover/connect to {NVMF_LISTEN}, wrote {} MiB, reconnected, read back the same data; saw the volume grow from {} to {} MiB while connected (dpuctl apply), data intact; with a second path over :{NVMF_SECOND_PORT}, moved to it when the operator drained :{NVMF_PORT} (ANA inaccessible), same data; the guest write-protected the namespace until restart and the operator lifted it (clear-host-write-protection); when the operator made the namespace read-only, the guest's disk turned read-only and the target refused its write",
                demo_guest::DATA_MIB,
                NVMF_VOLUME_BYTES >> 20,
                NVMF_GROWN_BYTES >> 20,
            ));
            Ok(())
        },
    )?;
    steps.step(
        "lab: vm1 192.0.2.1, vm2 192.0.2.2 (MTU 1450), a Linux VXLAN VTEP (VNI 100) in the fabric namespace",
        || {
            prereq::ensure_apt(demo_switch::APT)?;
            demo_switch::prepare(demo.lab()?)
        },
    )?;
    let switch_yaml = demo.work.path().join("switch.yaml");
    fs::write(&switch_yaml, demo_switch::manifest())?;
    let switch_yaml = switch_yaml.display().to_string();
    steps.step(
        "operator: apply a switch manifest (VXLAN bridge VNI 100, access ports pf0vf0/pf0vf1, uplink p0, VTEP 198.51.100.10)",
        || {
            print_indented(&demo_switch::manifest());
            demo.dpuctl(Caller::Operator, &["apply", "-f", &switch_yaml])?;
            for kind in ["bridges", "ports", "vteps"] {
                demo.wait_applied_as(Caller::Operator, kind)?;
            }
            println!("    every switch object is APPLIED by the supervised dpu-switch");
            demo.summary.push("operator applied a VXLAN bridge, two access ports, the uplink and a VTEP: all APPLIED".into());
            Ok(())
        },
    )?;
    steps.step("overlay: vm1 pings vm2 and the fabric's overlay address 192.0.2.3", || {
        demo.check_interrupt()?;
        let lab = demo.lab()?;
        demo_switch::ping(lab, Role::Vm1, demo_switch::VM2_IP, 5)?;
        demo_switch::ping(lab, Role::Vm1, demo_switch::FABRIC_OVERLAY_IP, 5)?;
        demo_switch::ping(lab, Role::Vm2, demo_switch::FABRIC_OVERLAY_IP, 5)?;
        demo.summary.push(format!(
            "overlay: vm1 -> vm2 through the bridge, vm1 and vm2 -> {} over VXLAN to the fabric's Linux VTEP",
            demo_switch::FABRIC_OVERLAY_IP
        ));
        Ok(())
    })?;
    steps.step(
        "switch status: port counters (host: its own ports), MAC table (operator)",
        || {
            let ports = demo.dpuctl(Caller::Host, &["switch", "ports"])?;
            if !ports.contains("pf0vf0") || ports.lines().any(|l| l.starts_with("p0 ")) {
                bail!("the host's port counters should list pf0vf0 and not the uplink p0");
            }
            demo.dpuctl(Caller::Operator, &["switch", "ports"])?;
            let macs = demo.dpuctl(Caller::Operator, &["switch", "macs"])?;
            let remote = macs.lines().filter(|l| l.contains("vtep:")).count();
            let local = macs.lines().filter(|l| l.contains("pf0vf")).count();
            if remote == 0 || local < 2 {
                bail!("the MAC table should hold both VMs and the fabric's overlay MAC behind the VTEP");
            }
            demo.summary.push(format!(
                "switch status: host sees only its ports' counters; MAC table: {local} local, {remote} behind the remote VTEP"
            ));
            Ok(())
        },
    )?;
    steps.step("metrics: Prometheus endpoint from the host namespace", || demo.metrics())?;
    steps.step("teardown: stop the agent, remove the lab", || {
        if let Some(mut p) = demo.dpud.take() {
            let status = p.stop(Duration::from_secs(10))?;
            println!("    dpud stopped ({})", status.map_or("gone".into(), |s| s.to_string()));
        }
        if let Some(lab) = demo.lab.take() {
            let prefix = lab.prefix().to_owned();
            lab.down()?;
            println!("    lab {prefix} removed");
        }
        Ok(())
    })?;
    println!("\nxtask demo summary:");
    for line in &demo.summary {
        println!("  - {line}");
    }
    steps.finish();
    Ok(())
}

/// `xtask http-get URL`: a minimal HTTP/1.0 GET, printing the body (used inside namespaces,
/// where the xtask binary runs via `ip netns exec`).
pub fn http_get(url: &str) -> Result<()> {
    let rest = url.strip_prefix("http://").context("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr: SocketAddr = authority
        .to_socket_addrs()
        .with_context(|| format!("resolving {authority}"))?
        .next()
        .with_context(|| format!("{authority} has no address"))?;
    let timeout = Duration::from_secs(10);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n")?;
    let mut response = Vec::new();
    // Bounded: at most 16 MiB.
    stream.take(16 << 20).read_to_end(&mut response).context("reading the response")?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").context("malformed HTTP response")?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        bail!("GET {url}: {status}");
    }
    print!("{body}");
    Ok(())
}

/// `xtask nvmf-io ADDR SUBNQN HOSTNQN [--dhchap-secret-file F]`: an NVMe/TCP host
/// (`dpu_nvmf::initiator`) connects one I/O queue (authenticating with the secret in `F` when
/// the target asks), identifies controller and namespace 1, writes a 4 KiB pattern at LBA 8
/// and reads it back (used inside lab namespaces). Every wait is bounded by the initiator's
/// timeout (10 s per wait, however slowly bytes come) and an overall 60 s limit.
pub fn nvmf_io(
    addr: SocketAddr,
    subnqn: &str,
    hostnqn: &str,
    dhchap_secret_file: Option<&Path>,
) -> Result<()> {
    use dpu_nvmf::initiator::{HostController, HostOptions};
    let dhchap_secret = match dhchap_secret_file {
        Some(f) => {
            let text = fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            Some(text.parse().with_context(|| format!("the secret in {}", f.display()))?)
        }
        None => None,
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let opts = HostOptions { hostnqn: hostnqn.into(), dhchap_secret, ..HostOptions::default() };
        let work = async {
            let mut c = HostController::connect(addr, subnqn, &opts, 1)
                .await
                .with_context(|| format!("connecting to {addr} ({subnqn})"))?;
            println!("connected to {addr}: controller {}", c.cntlid);
            let id = c.admin.identify(1, 0).await.context("Identify Controller")?;
            let text = |r: std::ops::Range<usize>| {
                String::from_utf8_lossy(id.get(r).unwrap_or_default()).trim().to_owned()
            };
            println!("identify controller: serial {:?}, model {:?}", text(4..24), text(24..64));
            let ns = c.admin.identify(0, 1).await.context("Identify Namespace 1")?;
            let nsze = ns.get(0..8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes);
            let lbaf = ns.get(26).copied().unwrap_or(0) & 0x0F;
            let lbads = ns.get(128 + 4 * usize::from(lbaf) + 2).copied().unwrap_or(9);
            let bs = 1u32.checked_shl(u32::from(lbads)).context("bad LBA data size")?;
            println!("namespace 1: {nsze} blocks of {bs} bytes");
            if bs == 0 || 4096 % bs != 0 {
                bail!("block size {bs} does not divide 4 KiB");
            }
            let data: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(131) >> 3) as u8).collect();
            let q = c.io.first_mut().context("no I/O queue")?;
            let w = q.write(1, 8, &data, bs).await.context("Write")?;
            if !w.cqe.status.is_success() {
                bail!("Write failed: {:?}", w.cqe.status);
            }
            let r = q.read(1, 8, 4096 / bs, bs).await.context("Read")?;
            if !r.cqe.status.is_success() {
                bail!("Read failed: {:?}", r.cqe.status);
            }
            if r.data != data {
                bail!("the 4 KiB read back differ from what was written");
            }
            println!("wrote 4096 bytes at LBA 8 and read them back: identical");
            c.shutdown().await.context("shutdown")?;
            println!("controller shut down");
            Ok(())
        };
        tokio::time::timeout(Duration::from_secs(60), work)
            .await
            .map_err(|_| anyhow::anyhow!("timed out after 60 s"))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_follows_the_contract() {
        let text = dpud_config(Path::new("/x/target/debug"), Path::new("/tmp/demo")).unwrap();
        dpud::config::Config::parse(&text).unwrap();
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["state_dir"].as_str(), Some("state"));
        let listeners = v["listeners"].as_array().unwrap();
        assert_eq!(listeners[0]["address"].as_str(), Some("192.168.100.2:50051"));
        assert_eq!(listeners[0]["max_role"].as_str(), Some("host"));
        assert_eq!(listeners[1]["address"].as_str(), Some("127.0.0.1:50052"));
        let cas = v["tls"]["client_cas"].as_array().unwrap();
        assert_eq!(cas.len(), 2);
        assert_eq!(v["metrics"]["address"].as_str(), Some("192.168.100.2:9102"));
        let command = v["services"][0]["command"].as_array().unwrap();
        assert_eq!(command[0].as_str(), Some("/x/target/debug/dpu-system"));
        assert_eq!(command[2].as_str(), Some("/tmp/demo/run/system.sock"));
        let nvmf = &v["services"][1];
        assert_eq!(nvmf["name"].as_str(), Some("nvmf"));
        let command = nvmf["command"].as_array().unwrap();
        assert_eq!(command[0].as_str(), Some("/x/target/debug/dpu-nvmf"));
        assert_eq!(command[1].as_str(), Some("--socket"));
        assert_eq!(command[2].as_str(), Some("/tmp/demo/run/nvmf.sock"));
        let switch = &v["services"][2];
        assert_eq!(switch["name"].as_str(), Some("switch"));
        let command = switch["command"].as_array().unwrap();
        assert_eq!(command[0].as_str(), Some("/x/target/debug/dpu-switch"));
        assert_eq!(command[2].as_str(), Some("/tmp/demo/run/switch.sock"));
    }

    #[test]
    fn http_get_rejects_other_schemes() {
        assert!(http_get("https://192.0.2.1/").is_err());
    }
}
