//! dpuctl: drive the agent from the host or the operator's workstation, kubectl-style.
//!
//! Every failure prints one line `dpuctl: ...` and exits non-zero, as kubectl does: 1 for
//! API and connection errors and for input dpuctl refuses (an unknown kind, a manifest that
//! does not parse), 2 for a command line clap refuses (an unknown command or flag, a
//! missing or malformed argument). `diff` exits 0 without differences, 1 with some and 2
//! when it fails, as `diff(1)` and `kubectl diff` do, so a script can tell drift from an
//! unreachable card.

mod context;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use dpu_client::manifest::{self, Kind};
use dpu_client::output::{Format, printable};
use dpu_client::{Client, apply, switch};
use dpu_proto::dpu::nvmf::v1 as nvmf;
use dpu_proto::dpu::switch::v1::{GetStatusRequest, ListRequest};
use dpu_proto::dpu::system::v1::{
    DeleteSysctlRequest, GetAgentMetricsRequest, GetHealthRequest, GetInventoryRequest,
    GetSysctlRequest, Health, ListSysctlsRequest, ServingState,
};
use tonic_types::StatusExt;

/// The longest `--timeout`, a day: a call's deadline must stay on the clock (a value past
/// it overflowed, a panic), and no call waits longer than that for a card.
const MAX_TIMEOUT_SECS: u64 = 86_400;

#[derive(Parser)]
#[command(version, about = "Command line for the DPU agent (dpud)")]
struct Cli {
    /// Agent endpoint, https://HOST:PORT.
    #[arg(long, env = "DPUCTL_ENDPOINT", global = true)]
    endpoint: Option<String>,
    /// CA certificate that signed the agent's certificate.
    #[arg(long, env = "DPUCTL_CA", global = true)]
    ca: Option<PathBuf>,
    /// Client certificate (its issuing CA decides the role).
    #[arg(long, env = "DPUCTL_CERT", global = true)]
    cert: Option<PathBuf>,
    /// Client private key.
    #[arg(long, env = "DPUCTL_KEY", global = true)]
    key: Option<PathBuf>,
    /// A context file (TOML with endpoint, ca, cert, key); flags override it, and it
    /// overrides the DPUCTL_ENDPOINT/CA/CERT/KEY environment variables when given here.
    #[arg(long, env = "DPUCTL_CONTEXT", global = true)]
    context: Option<PathBuf>,
    /// Output format: table, json or yaml.
    #[arg(short, long, default_value = "table", global = true)]
    output: Format,
    /// Seconds to wait for the agent (1 to 86400): to connect, and for each call's whole
    /// reply.
    #[arg(long, default_value_t = 10, global = true,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    timeout: u64,
    #[command(subcommand)]
    command: Command,
    /// Which of the above were typed rather than taken from the environment.
    #[arg(skip)]
    typed: context::Typed,
}

#[derive(Subcommand)]
enum Command {
    /// The card's hardware, kernel, interfaces and component versions.
    Inventory,
    /// Health of the agent and every service.
    Health,
    /// The agent's request counters and latencies (operator).
    Metrics,
    /// One object: `get sysctl net.ipv4.ip_forward`.
    Get {
        #[arg(help = kind_help())]
        kind: String,
        name: String,
    },
    /// Every object of a kind: `list sysctls`.
    List {
        #[arg(help = kind_help())]
        kind: String,
    },
    /// Delete one object.
    Delete {
        #[arg(help = kind_help())]
        kind: String,
        name: String,
        /// Succeed when the object does not exist (saying so).
        #[arg(long)]
        allow_missing: bool,
        /// Then wait until the service of its kind no longer serves it (it answered a sync
        /// without it; nvmf: once the I/O hosts had started on it ended, 30 s at most):
        /// exit 1 if it has not after DURATION (default 60s; e.g. 90s, 5m, 500ms; a day at
        /// most).
        #[arg(long, value_name = "DURATION", num_args = 0..=1, require_equals = true,
              default_missing_value = "60s", value_parser = wait_limit)]
        wait: Option<Duration>,
    },
    /// Create or update every object of a manifest file ("-" for stdin).
    Apply {
        #[arg(short, long)]
        file: PathBuf,
        /// Then wait until the agent's services reported each object: exit 1 naming those
        /// FAILED (with the reason) or, after DURATION (default 60s; e.g. 90s, 5m, 500ms; a
        /// day at most), those still PENDING. A FAILED one is reported at once while the
        /// agent keeps retrying it: run again to see it once applied.
        #[arg(long, value_name = "DURATION", num_args = 0..=1, require_equals = true,
              default_missing_value = "60s", value_parser = wait_limit)]
        wait: Option<Duration>,
    },
    /// Show what apply would change.
    Diff {
        #[arg(short, long)]
        file: PathBuf,
    },
    /// Observed switch state: port counters (the host sees its own ports), the MAC table,
    /// neighbours and routes, the flow cache, or the whole status.
    Switch {
        #[command(subcommand)]
        command: SwitchCommand,
    },
    /// Certificates: a development PKI, and revoking its client certificates.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// NVMe-oF target: statistics, and lifting the write protection hosts set.
    Nvmf {
        #[command(subcommand)]
        command: NvmfCommand,
    },
}

impl Command {
    /// The command's name when what it prints is lines saying what it did, not objects.
    fn prints_no_objects(&self) -> Option<&'static str> {
        match self {
            Command::Apply { .. } => Some("apply"),
            Command::Diff { .. } => Some("diff"),
            Command::Delete { .. } => Some("delete"),
            Command::Certs { .. } => Some("certs"),
            Command::Nvmf { command: NvmfCommand::ClearHostWriteProtection { .. } } => {
                Some("nvmf clear-host-write-protection")
            }
            _ => None,
        }
    }
}

#[derive(Subcommand)]
enum NvmfCommand {
    /// Target counters and open/unconnected connections, subsystem, controller/queue and
    /// namespace counters.
    Stats,
    /// Lifts the write protection hosts set on a namespace (Write Protect, and Write
    /// Protect Until Power Cycle); the namespace's own read_only stays.
    ClearHostWriteProtection {
        /// The namespace: subsystems/{s}/namespaces/{nsid}, or {s}/namespaces/{nsid}.
        name: String,
    },
}

#[derive(Subcommand)]
enum SwitchCommand {
    /// Counters of every port (of the host's own ports for the host role).
    Ports,
    /// The learned and static MAC addresses of every bridge.
    Macs,
    /// IPv4/IPv6 neighbours of the VRFs and the routes in force.
    Neighbours,
    /// The flow cache.
    Flows,
    /// Bridges, VTEPs, flow-cache statistics and switch-wide counters.
    Status,
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Create a development CA, a server certificate and host/operator client certificates.
    ///
    /// The CAs are valid for ten years, the other certificates for one (from a day ago, for
    /// clocks that differ); run it again when they expire.
    Init {
        dir: PathBuf,
        /// Server certificate SANs (default: 192.168.100.2, localhost, 127.0.0.1).
        #[arg(long = "san")]
        sans: Vec<String>,
    },
    /// Revoke client certificates of the development PKI in DIR: each serial goes into the
    /// CRL of the CA that issued it (DIR/host-ca.crl or DIR/operator-ca.crl); list that file
    /// in the agent's `[tls] crls` and restart it.
    Revoke {
        dir: PathBuf,
        #[arg(required = true)]
        certs: Vec<PathBuf>,
    },
}

/// `print!` that returns an error where `print!` panics: when the reader of stdout went
/// away (`dpuctl list flows | head`), dpuctl ends as on any failure, one `dpuctl:` line
/// and a non-zero exit.
macro_rules! out {
    ($($arg:tt)*) => {
        write_out(format_args!($($arg)*))
    };
}

/// [`out!`] with a newline, as `println!`.
macro_rules! outln {
    ($($arg:tt)*) => {
        write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

fn write_out(text: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(text).and_then(|()| stdout.flush()).context("writing to stdout")
}

/// The help of a KIND argument: the kinds it may be.
fn kind_help() -> String {
    let kinds: Vec<&str> = manifest::KINDS.iter().map(|k| k.plural).collect();
    format!("One of {} (or singular, any case)", kinds.join(", "))
}

fn resolve_kind(word: &str) -> anyhow::Result<Kind> {
    manifest::kind(word).with_context(|| {
        let known: Vec<_> = manifest::KINDS.iter().map(|k| k.plural).collect();
        format!("unknown kind {word:?}; known: {}", known.join(", "))
    })
}

/// A gRPC status as one line, with field violations when the server sent them; the
/// server's words [`printable`].
fn status_line(s: &tonic::Status) -> String {
    let mut line = format!("{}: {}", dpu_code_name(s.code()), printable(s.message()));
    if let Some(bad) = s.get_details_bad_request() {
        for v in bad.field_violations {
            let description = printable(&v.description);
            if !line.contains(description.as_ref()) {
                line.push_str(&format!(" [{}: {description}]", printable(&v.field)));
            }
        }
    }
    line
}

fn dpu_code_name(code: tonic::Code) -> String {
    // "PermissionDenied" -> "PERMISSION_DENIED", as gRPC names codes.
    let debug = format!("{code:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Every object of a List call (`$request` is the request type), every page
/// ([`dpu_client::paging::all_pages`]).
macro_rules! list_all {
    ($client:expr, $method:ident, $request:ty, $field:ident) => {{
        type Request = $request;
        let client = &$client;
        dpu_client::paging::all_pages(|page_token| {
            let mut client = client.clone();
            async move {
                // Some requests have more fields (a parent), left empty here.
                #[allow(clippy::needless_update)]
                let request = Request { page_size: 1000, page_token, ..Default::default() };
                let page = client.$method(request).await?.into_inner();
                Ok((page.$field, page.next_page_token))
            }
        })
        .await
    }};
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Certs { command: CertsCommand::Init { dir, sans } } => {
            let sans = if sans.is_empty() { dpu_pki::default_server_sans() } else { sans.clone() };
            dpu_pki::init_dev_pki(dir, &sans)?;
            outln!(
                "wrote a development PKI to {} (server SANs: {})",
                dir.display(),
                sans.join(", ")
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Certs { command: CertsCommand::Revoke { dir, certs } } => {
            for cert in certs {
                let crl = dpu_pki::revoke(dir, cert)?;
                outln!("revoked {} in {}", cert.display(), crl.display())?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let options = context::resolve(&cli, Duration::from_secs(cli.timeout))?;
    let client = dpu_client::connect(&options).await?;
    let api = |s: tonic::Status| anyhow::anyhow!(status_line(&s));
    let format = cli.output;
    let mut system = client.system();
    match cli.command {
        Command::Certs { .. } => unreachable!("handled above"),
        Command::Inventory => {
            let inv = system.get_inventory(GetInventoryRequest {}).await.map_err(api)?.into_inner();
            out!("{}", render::inventory(&inv, format)?)?;
        }
        Command::Health => {
            let health = system.get_health(GetHealthRequest {}).await.map_err(api)?.into_inner();
            out!("{}", render::health(&health, format)?)?;
        }
        Command::Metrics => {
            let m = system
                .get_agent_metrics(GetAgentMetricsRequest {})
                .await
                .map_err(api)?
                .into_inner();
            out!("{}", render::metrics(&m, format)?)?;
        }
        Command::Get { kind, name } => {
            let kind = resolve_kind(&kind)?;
            let name = kind.full_name(&name);
            if kind.is_switch() {
                let o = switch::get(&client, kind, &name).await.map_err(api)?;
                out!("{}", render::switch_objects(kind, &[o], format, true)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut nv = client.nvmf();
            let out = match kind {
                manifest::SYSCTL => {
                    let s = system.get_sysctl(GetSysctlRequest { name }).await.map_err(api)?;
                    render::sysctls(&[s.into_inner()], format, true)?
                }
                manifest::VOLUME => {
                    let v = nv.get_volume(nvmf::GetVolumeRequest { name }).await.map_err(api)?;
                    render::volumes(&[v.into_inner()], format, true)?
                }
                manifest::SUBSYSTEM => {
                    let s =
                        nv.get_subsystem(nvmf::GetSubsystemRequest { name }).await.map_err(api)?;
                    render::subsystems(&[s.into_inner()], format, true)?
                }
                manifest::NAMESPACE => {
                    let n =
                        nv.get_namespace(nvmf::GetNamespaceRequest { name }).await.map_err(api)?;
                    render::namespaces(&[n.into_inner()], format, true)?
                }
                _ => {
                    let l =
                        nv.get_listener(nvmf::GetListenerRequest { name }).await.map_err(api)?;
                    render::listeners(&[l.into_inner()], format, true)?
                }
            };
            out!("{out}")?;
        }
        Command::List { kind } => {
            let kind = resolve_kind(&kind)?;
            if kind.is_switch() {
                let all = switch::list(&client, kind).await.map_err(api)?;
                out!("{}", render::switch_objects(kind, &all, format, false)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let nv = client.nvmf();
            let out = match kind {
                manifest::SYSCTL => {
                    let all = list_all!(system, list_sysctls, ListSysctlsRequest, sysctls);
                    render::sysctls(&all.map_err(api)?, format, false)?
                }
                manifest::VOLUME => {
                    let all = list_all!(nv, list_volumes, nvmf::ListVolumesRequest, volumes);
                    render::volumes(&all.map_err(api)?, format, false)?
                }
                manifest::SUBSYSTEM => {
                    let all =
                        list_all!(nv, list_subsystems, nvmf::ListSubsystemsRequest, subsystems);
                    render::subsystems(&all.map_err(api)?, format, false)?
                }
                manifest::NAMESPACE => {
                    let all =
                        list_all!(nv, list_namespaces, nvmf::ListNamespacesRequest, namespaces);
                    render::namespaces(&all.map_err(api)?, format, false)?
                }
                _ => {
                    let all = list_all!(nv, list_listeners, nvmf::ListListenersRequest, listeners);
                    render::listeners(&all.map_err(api)?, format, false)?
                }
            };
            out!("{out}")?;
        }
        Command::Delete { kind, name, allow_missing, wait } => {
            let kind = resolve_kind(&kind)?;
            let name = kind.full_name(&name);
            match delete(&client, kind, name.clone()).await {
                Ok(()) => outln!("{name} deleted")?,
                Err(s) if allow_missing && s.code() == tonic::Code::NotFound => {
                    outln!("{name} not found (nothing to delete)")?;
                }
                Err(s) => return Err(api(s)),
            }
            if let Some(limit) = wait {
                return wait_removed(&client, kind, &name, limit).await;
            }
        }
        Command::Switch { command } => {
            let mut sw = client.switch();
            let out = match command {
                SwitchCommand::Ports => {
                    let all = list_all!(sw, list_port_statuses, ListRequest, ports);
                    render::port_statuses(&all.map_err(api)?, format)?
                }
                SwitchCommand::Macs => {
                    let mut all =
                        list_all!(sw, list_mac_entries, ListRequest, entries).map_err(api)?;
                    // The switch pages in its table order (cheap under its lock): sorted here.
                    all.sort_by(|a, b| (&a.bridge, &a.mac).cmp(&(&b.bridge, &b.mac)));
                    render::mac_entries(&all, format)?
                }
                SwitchCommand::Neighbours => {
                    let first = sw.list_neighbours(ListRequest::default()).await.map_err(api)?;
                    let routes = first.into_inner().routes;
                    let all = list_all!(sw, list_neighbours, ListRequest, neighbours);
                    render::neighbours(&all.map_err(api)?, &routes, format)?
                }
                SwitchCommand::Flows => {
                    let mut all = list_all!(sw, list_flows, ListRequest, flows).map_err(api)?;
                    all.sort_by(|a, b| a.key.cmp(&b.key));
                    render::flows(&all, format)?
                }
                SwitchCommand::Status => {
                    let status = sw.get_switch_status(GetStatusRequest {}).await.map_err(api)?;
                    render::switch_status(&status.into_inner(), format)?
                }
            };
            out!("{out}")?;
        }
        Command::Nvmf { command: NvmfCommand::Stats } => {
            let stats = client
                .nvmf()
                .get_nvmf_stats(nvmf::GetNvmfStatsRequest {})
                .await
                .map_err(api)?
                .into_inner();
            out!("{}", render::nvmf_stats(&stats, format)?)?;
        }
        Command::Nvmf { command: NvmfCommand::ClearHostWriteProtection { name } } => {
            // Named as `get` and `delete` take a namespace: `s1/namespaces/1` too.
            let name = manifest::NAMESPACE.full_name(&name);
            let req = nvmf::ClearHostWriteProtectionRequest { name: name.clone() };
            let reply =
                client.nvmf().clear_host_write_protection(req).await.map_err(api)?.into_inner();
            let previous = render::host_write_protection(reply.previous);
            outln!("{name}: host write protection cleared (was: {previous})")?;
        }
        Command::Apply { file, wait } => {
            let resources = read_manifest(&file)?;
            return apply_all(&client, resources, wait).await;
        }
        Command::Diff { file } => {
            let resources = read_manifest(&file)?;
            let mut changed = false;
            for r in &resources {
                let lines = apply::diff(&client, r)
                    .await
                    .map_err(|s| anyhow::anyhow!("{}: {}", r.full_name(), status_line(&s)))?;
                for line in &lines {
                    outln!("{}", printable(line))?;
                }
                changed |= !lines.is_empty();
            }
            return Ok(if changed { ExitCode::from(1) } else { ExitCode::SUCCESS });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Deletes the object `name` of `kind`. Asked without `allow_missing`, whose reply is the
/// same whether the object was deleted or never existed: NOT_FOUND tells them apart.
async fn delete(client: &Client, kind: Kind, name: String) -> Result<(), tonic::Status> {
    let (etag, allow_missing) = (String::new(), false);
    let mut nv = client.nvmf();
    match kind {
        k if k.is_switch() => switch::delete(client, kind, name, allow_missing).await?,
        manifest::SYSCTL => {
            let r = DeleteSysctlRequest { name, etag, allow_missing };
            client.system().delete_sysctl(r).await?;
        }
        manifest::VOLUME => {
            nv.delete_volume(nvmf::DeleteVolumeRequest { name, etag, allow_missing }).await?;
        }
        manifest::SUBSYSTEM => {
            let r = nvmf::DeleteSubsystemRequest { name, etag, allow_missing };
            nv.delete_subsystem(r).await?;
        }
        manifest::NAMESPACE => {
            let r = nvmf::DeleteNamespaceRequest { name, etag, allow_missing };
            nv.delete_namespace(r).await?;
        }
        _ => {
            nv.delete_listener(nvmf::DeleteListenerRequest { name, etag, allow_missing }).await?;
        }
    }
    Ok(())
}

/// Waits until the service of `kind` answered a sync that carried the delete of `name` just
/// acknowledged (or found missing: another client's delete may not have reached the service
/// yet). The agent shows a write's store revision as the service's desired one before it
/// acknowledges it, and a sync's as synced once the service answered it, the revision read
/// before the state it sent: so once the synced revision reaches the desired one read now,
/// after the reply, the service answered a sync without the object (for nvmf, one that
/// waited for the I/O hosts had started on a removed namespace). Looks every
/// [`WAIT_POLL`]; exit 1 once `limit` is over, or at once when the agent cannot tell.
async fn wait_removed(
    client: &Client,
    kind: Kind,
    name: &str,
    limit: Duration,
) -> anyhow::Result<ExitCode> {
    let deadline = tokio::time::Instant::now() + limit;
    let service = kind.service();
    let mut system = client.system();
    let mut desired = None;
    // Bounded by the deadline: each round sleeps until the next poll or the deadline.
    loop {
        let health = system
            .get_health(GetHealthRequest {})
            .await
            .map_err(|s| anyhow::anyhow!("{name}: {}", status_line(&s)))?
            .into_inner();
        let (seen, synced) =
            sync_progress(&health, service).map_err(|why| anyhow::anyhow!("{name}: {why}"))?;
        let desired = *desired.get_or_insert(seen);
        if synced >= desired {
            return Ok(ExitCode::SUCCESS);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            let why = health
                .services
                .iter()
                .find(|s| s.service == service && s.state != ServingState::Serving as i32)
                .map(|s| format!(" (not serving: {})", printable(&s.message)))
                .unwrap_or_default();
            eprintln!(
                "dpuctl: {name}: the {service} service has not confirmed the removal after {}{why}",
                show_duration(limit)
            );
            return Ok(ExitCode::from(1));
        }
        tokio::time::sleep_until(deadline.min(now + WAIT_POLL)).await;
    }
}

/// The desired and synced store revisions `health` shows for `service`, or why it cannot
/// tell: the agent is not configured with the service (nothing it drives serves the kind),
/// or it predates the revisions.
fn sync_progress(health: &Health, service: &str) -> Result<(u64, u64), String> {
    let Some(s) = health.services.iter().find(|s| s.service == service) else {
        return Err(format!(
            "the agent is not configured with the {service} service, so no service it \
             drives can confirm the removal"
        ));
    };
    match (s.desired_revision, s.synced_revision) {
        (Some(desired), Some(synced)) => Ok((desired, synced)),
        _ => Err(format!(
            "the agent{} does not report which writes its services applied, so it cannot \
             confirm the removal (run delete without --wait)",
            if health.agent_version.is_empty() {
                String::new()
            } else {
                format!(" (dpud {})", printable(&health.agent_version))
            }
        )),
    }
}

/// Objects applied (or looked at, waiting) at once: enough to keep the agent's store
/// flushing in groups.
const APPLY_CONCURRENCY: usize = 32;

/// How often `apply --wait` looks at the objects still PENDING, and `delete --wait` at the
/// service's health: the agent probes its services as often.
const WAIT_POLL: Duration = Duration::from_millis(500);

/// The longest `apply --wait` and `delete --wait`: a day, as `--timeout`.
const MAX_WAIT: Duration = Duration::from_secs(MAX_TIMEOUT_SECS);

/// An `apply --wait` or `delete --wait` limit: a whole number and its unit (`ms`, `s`, `m` or `h`; seconds
/// without one), 1 ms to a day.
fn wait_limit(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration of 1ms to 24h, such as 90s, 5m or 500ms");
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let per = match unit {
        "ms" => Duration::from_millis(1),
        "" | "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        _ => return Err(bad()),
    };
    u32::try_from(number)
        .ok()
        .and_then(|n| per.checked_mul(n))
        .filter(|d| !d.is_zero() && *d <= MAX_WAIT)
        .ok_or_else(bad)
}

/// A duration as `--wait` takes it back: `1500ms`, `90s`.
fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Runs `work` on every resource, [`APPLY_CONCURRENCY`] at a time; the results in their
/// order.
async fn for_each<T, F, Fut>(
    client: &Client,
    resources: &[manifest::Resource],
    work: F,
) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(Client, manifest::Resource) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(APPLY_CONCURRENCY));
    let mut tasks = Vec::with_capacity(resources.len());
    for r in resources {
        let (limit, job) = (limit.clone(), work(client.clone(), r.clone()));
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            job.await
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await?);
    }
    Ok(results)
}

/// Applies every resource, several at a time, stage by stage (objects that others reference
/// first), and reports each in file order. Like kubectl, a failure does not stop the others;
/// the exit code is 1 if any failed. With `wait`, then waits for the objects applied
/// ([`wait_applied`]).
async fn apply_all(
    client: &Client,
    resources: Vec<manifest::Resource>,
    wait: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let mut outcomes: Vec<Option<Result<apply::Applied, tonic::Status>>> =
        resources.iter().map(|_| None).collect();
    let mut stages: Vec<u8> = resources.iter().map(manifest::Resource::stage).collect();
    stages.sort_unstable();
    stages.dedup();
    for stage in stages {
        let (at, staged): (Vec<usize>, Vec<manifest::Resource>) = resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.stage() == stage)
            .map(|(i, r)| (i, r.clone()))
            .unzip();
        let apply_one = |client: Client, r| async move { apply::apply(&client, &r).await };
        let applied = for_each(client, &staged, apply_one).await?;
        for (i, outcome) in at.into_iter().zip(applied) {
            outcomes[i] = Some(outcome);
        }
    }
    let mut failed = 0usize;
    let mut written = Vec::new();
    for (r, outcome) in resources.into_iter().zip(outcomes) {
        let name = r.full_name();
        match outcome {
            Some(Ok(a)) => {
                outln!("{name} {}", a.outcome.as_str())?;
                written.push((r, a.generation));
            }
            Some(Err(s)) => {
                failed += 1;
                eprintln!("dpuctl: {name}: {}", status_line(&s));
            }
            None => unreachable!("every stage ran"),
        }
    }
    if let Some(limit) = wait {
        failed += wait_applied(client, written, limit).await?;
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Waits until the agent shows each object at the generation apply wrote (or a later one)
/// APPLIED or FAILED, as `kubectl apply --wait` waits for its objects; prints one line for
/// each FAILED, with its service's message, and once `limit` is over one for each still
/// PENDING. Returns how many did not apply.
async fn wait_applied(
    client: &Client,
    mut waiting: Vec<(manifest::Resource, i64)>,
    limit: Duration,
) -> anyhow::Result<usize> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut failed = 0usize;
    // Bounded by the deadline: each round sleeps until the next poll or the deadline.
    loop {
        let resources: Vec<manifest::Resource> = waiting.iter().map(|(r, _)| r.clone()).collect();
        let look = |client: Client, r| async move { apply::observe(&client, &r).await };
        let seen = for_each(client, &resources, look).await?;
        let mut still = Vec::new();
        for ((r, generation), seen) in waiting.into_iter().zip(seen) {
            let name = r.full_name();
            match seen {
                Err(s) => {
                    failed += 1;
                    eprintln!("dpuctl: {name}: {}", status_line(&s));
                }
                Ok(o) if o.generation >= generation && o.progress == apply::Progress::Applied => {}
                Ok(o) if o.generation >= generation && o.progress == apply::Progress::Failed => {
                    failed += 1;
                    eprintln!("dpuctl: {name}: FAILED: {}", printable(&o.message));
                }
                Ok(o) => still.push(((r, generation), o)),
            }
        }
        let now = tokio::time::Instant::now();
        if still.is_empty() {
            return Ok(failed);
        }
        if now >= deadline {
            for ((r, generation), o) in &still {
                // A report of an older generation is none of the one written.
                let state =
                    if o.generation >= *generation { o.progress } else { apply::Progress::Pending };
                let why = if o.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", printable(&o.message))
                };
                eprintln!(
                    "dpuctl: {}: still {state} after {}{why}",
                    r.full_name(),
                    show_duration(limit)
                );
            }
            return Ok(failed + still.len());
        }
        waiting = still.into_iter().map(|(w, _)| w).collect();
        tokio::time::sleep_until(deadline.min(now + WAIT_POLL)).await;
    }
}

fn read_manifest(file: &PathBuf) -> anyhow::Result<Vec<manifest::Resource>> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    let resources = manifest::parse(&text).with_context(|| format!("{}", file.display()))?;
    if resources.is_empty() {
        bail!("{}: no objects in the file", file.display());
    }
    Ok(resources)
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // A command that prints what it did, not objects, has nothing for -o json|yaml to
    // format: refused as clap refuses a command line (exit 2), not ignored, so a script
    // asking for JSON is not handed lines.
    if let Some(name) = cli.command.prints_no_objects()
        && cli.output != Format::Table
    {
        let format = cli.output.name();
        let why = format!(
            "`{name}` prints no objects, so -o {format} has nothing to format (-o json and \
             -o yaml are for inventory, health, metrics, get, list, switch and nvmf stats)"
        );
        Cli::command().error(clap::error::ErrorKind::ArgumentConflict, why).exit();
    }
    cli.typed = context::Typed::of(&matches);
    // diff's 1 means "differences", so its failures need another code.
    let failure = if matches!(cli.command, Command::Diff { .. }) { 2 } else { 1 };
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            let mut line = String::new();
            for part in chain {
                if !line.contains(&part) {
                    if !line.is_empty() {
                        line.push_str(": ");
                    }
                    line.push_str(&part);
                }
            }
            // An error may quote the server (a status's message): no control character of
            // it reaches the terminal, but a newline of our own (a manifest error's
            // context) still breaks the line.
            let line: String = line.split('\n').map(printable).collect::<Vec<_>>().join("\n");
            eprintln!("dpuctl: {line}");
            ExitCode::from(failure)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Each command has its own help, first line first (`certs`'s once sat on `switch`).
    #[test]
    fn every_command_has_its_own_help() {
        fn check(cmd: &clap::Command) {
            for sub in cmd.get_subcommands() {
                let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
                assert!(!about.is_empty(), "{} has no help", sub.get_name());
                check(sub);
            }
        }
        let cli = Cli::command();
        cli.clone().debug_assert();
        check(&cli);
        let about = |name: &str| {
            let sub = cli.find_subcommand(name).unwrap();
            sub.get_about().map(ToString::to_string).unwrap_or_default()
        };
        assert!(about("certs").starts_with("Certificates"), "{}", about("certs"));
        assert!(about("switch").starts_with("Observed switch state"), "{}", about("switch"));
    }

    /// docs/api.md's `dpuctl` synopsis names every command (`nvmf stats`, `certs revoke`)
    /// and every option (`--timeout`, `--allow-missing`): operators read it, not only
    /// `--help`.
    #[test]
    fn the_api_guide_synopsis_names_every_command_and_option() {
        let guide = include_str!("../../../docs/api.md");
        let section = guide.split("\n## dpuctl\n").nth(1).expect("a dpuctl section");
        let synopsis = section.split("```").nth(1).expect("a synopsis block");
        let words = |line: &str| -> Vec<String> {
            line.split([' ', '|', '[', ']']).filter(|w| !w.is_empty()).map(str::to_owned).collect()
        };
        let options_named = |cmd: &clap::Command| {
            for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
                let long = arg.get_long().map(|l| format!("--{l}"));
                let short = arg.get_short().map(|s| format!("-{s}"));
                let named = [long.clone(), short]
                    .into_iter()
                    .flatten()
                    .any(|flag| synopsis.lines().any(|l| words(l).contains(&flag)));
                assert!(named, "{} {long:?} is not in the synopsis:\n{synopsis}", cmd.get_name());
            }
        };
        let cli = Cli::command();
        options_named(&cli);
        for cmd in cli.get_subcommands().filter(|c| c.get_name() != "help") {
            let name = cmd.get_name();
            let leaves: Vec<_> = cmd.get_subcommands().filter(|c| c.get_name() != "help").collect();
            if leaves.is_empty() {
                let named = synopsis.lines().any(|l| words(l).iter().any(|w| w == name));
                assert!(named, "{name} is not in the synopsis:\n{synopsis}");
                options_named(cmd);
            }
            for leaf in leaves {
                let named = synopsis.lines().map(words).any(|w| {
                    w.first().is_some_and(|first| first == name)
                        && w.iter().any(|x| x == leaf.get_name())
                });
                assert!(named, "{name} {} is not in the synopsis:\n{synopsis}", leaf.get_name());
                options_named(leaf);
            }
        }
    }

    /// The help of every command that takes a KIND names the kinds it may be.
    #[test]
    fn kind_arguments_name_the_kinds() {
        let mut cli = Cli::command();
        for name in ["get", "list", "delete"] {
            let help = cli.find_subcommand_mut(name).unwrap().render_help().to_string();
            for kind in dpu_client::manifest::KINDS {
                assert!(help.contains(kind.plural), "{name} --help lacks {}:\n{help}", kind.plural);
            }
        }
    }

    /// `apply --wait` takes a whole number with a unit (seconds without one), 1 ms to a
    /// day, and shows it back as it was meant; a bare `--wait` is 60 s.
    #[test]
    fn wait_limits() {
        use std::time::Duration;

        use super::{show_duration, wait_limit};
        let ok = |text| wait_limit(text).unwrap();
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("90"), Duration::from_secs(90));
        assert_eq!(ok("90s"), Duration::from_secs(90));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("24h"), Duration::from_secs(86_400));
        for bad in ["", "0", "0s", "25h", "1.5s", "-1s", "10x", "s", "99999999999999999999s"] {
            assert!(wait_limit(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            (show_duration(ok("5m")), show_duration(ok("1500ms"))),
            ("300s".into(), "1500ms".into())
        );
        use clap::Parser as _;
        let wait = |args: &[&str]| match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(super::Command::Apply { wait, .. }) => wait,
            _ => panic!("{args:?} not parsed"),
        };
        assert_eq!(wait(&["dpuctl", "apply", "-f", "x"]), None);
        assert_eq!(wait(&["dpuctl", "apply", "--wait", "-f", "x"]), Some(Duration::from_secs(60)));
        assert_eq!(
            wait(&["dpuctl", "apply", "-f", "x", "--wait=2m"]),
            Some(Duration::from_secs(120))
        );
    }

    /// `delete --wait` takes the limit `apply --wait` takes (a bare `--wait` is 60 s).
    #[test]
    fn delete_wait_limits() {
        use std::time::Duration;

        use clap::Parser as _;
        let wait = |args: &[&str]| match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(super::Command::Delete { wait, .. }) => wait,
            _ => panic!("{args:?} not parsed"),
        };
        assert_eq!(wait(&["dpuctl", "delete", "namespace", "s1/namespaces/1"]), None);
        let bare = wait(&["dpuctl", "delete", "namespace", "s1/namespaces/1", "--wait"]);
        assert_eq!(bare, Some(Duration::from_secs(60)));
        let given = wait(&["dpuctl", "delete", "--wait=500ms", "listener", "l1"]);
        assert_eq!(given, Some(Duration::from_millis(500)));
        assert!(Cli::try_parse_from(["dpuctl", "delete", "--wait=0s", "listener", "l1"]).is_err());
    }

    /// `delete --wait` compares the desired and synced revisions the agent shows for the
    /// kind's service. An agent without that service, or one that predates the revisions
    /// (absent, which would read as 0 and 0: confirmed), cannot confirm a removal: it says
    /// so instead.
    #[test]
    fn delete_wait_reads_the_services_revisions() {
        use dpu_proto::dpu::system::v1::{Health, ServiceHealth};

        use super::sync_progress;
        let nvmf = |desired, synced| ServiceHealth {
            service: "nvmf".into(),
            desired_revision: desired,
            synced_revision: synced,
            ..Default::default()
        };
        let health = |s: ServiceHealth| Health {
            services: vec![s],
            agent_version: "0.9.0".into(),
            ..Default::default()
        };
        assert_eq!(sync_progress(&health(nvmf(Some(7), Some(5))), "nvmf"), Ok((7, 5)));
        assert_eq!(sync_progress(&health(nvmf(Some(0), Some(0))), "nvmf"), Ok((0, 0)));
        let e = sync_progress(&health(nvmf(Some(7), Some(5))), "switch").unwrap_err();
        assert!(e.contains("not configured with the switch service"), "{e}");
        let e = sync_progress(&health(nvmf(None, None)), "nvmf").unwrap_err();
        assert!(e.starts_with("the agent (dpud 0.9.0) does not report"), "{e}");
    }

    /// `--timeout` is 1 s to a day: 0 would cancel every call at once, and a value past the
    /// clock (`18446744073709551615`) overflowed the call's deadline, a panic (exit 101).
    #[test]
    fn the_timeout_is_bounded() {
        use clap::Parser as _;
        for bad in ["0", "86401", "18446744073709551615"] {
            let e = Cli::try_parse_from(["dpuctl", "--timeout", bad, "health"]).err();
            let kind = e.as_ref().map(clap::Error::kind);
            assert_eq!(kind, Some(clap::error::ErrorKind::ValueValidation), "--timeout {bad}");
        }
        for good in ["1", "86400"] {
            assert!(Cli::try_parse_from(["dpuctl", "--timeout", good, "health"]).is_ok(), "{good}");
        }
    }

    /// A status's message and field violations are the server's words: no control
    /// character of them reaches the terminal.
    #[test]
    fn a_status_line_escapes_the_servers_words() {
        use tonic_types::{ErrorDetails, StatusExt as _};
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("spec.\x1b[2Jx", "bad\x07 value");
        let s = tonic::Status::with_error_details(
            tonic::Code::InvalidArgument,
            "no\x1b]0;title\x07",
            details,
        );
        assert_eq!(
            super::status_line(&s),
            "INVALID_ARGUMENT: no\\u{1b}]0;title\\u{7} [spec.\\u{1b}[2Jx: bad\\u{7} value]"
        );
    }
}
