//! `dpu-switch`: the switch service. Starts from a configuration file (or empty), serves its
//! internal gRPC API on a Unix socket for the agent (`SyncConfig` replaces the whole
//! configuration), binds its ports with AF_PACKET and forwards on a worker thread until
//! SIGTERM/SIGINT; SIGHUP re-reads the configuration file. It keeps forwarding with its last
//! configuration whatever happens to the agent.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use dpu_runtime::logging::{LogArgs, logged};
use dpu_switch::api::{Completer, SwitchInternal};
use dpu_switch::io::afpacket::AfPacketPort;
use dpu_switch::io::sys::{RingConfig, RingVersion};
use dpu_switch::io::{Opener, PortIo, PortRole, Shard, Worker, WorkerStats};
use dpu_switch::{ConfigError, Switch, SwitchConfig};
use tokio::signal::unix::{SignalKind, signal};
use tracing::{info, warn};

/// The DPU virtual switch.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML, or JSON when it ends in `.json`); without one the switch
    /// starts empty and waits for the agent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Unix socket for the internal API (created 0600).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Write status (counters, MAC table, flows) as JSON to this file, replaced atomically.
    #[arg(long)]
    status_file: Option<PathBuf>,
    /// How often the status file is rewritten, in milliseconds.
    #[arg(long, default_value_t = 500)]
    status_interval_ms: u64,
    #[command(flatten)]
    log: LogArgs,
    /// Forwarding threads: each receives on its share of the ports (port id modulo this
    /// number) and sends on all of them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    workers: u16,
    /// Pin worker N to CPU N (modulo the CPUs the process may use).
    #[arg(long)]
    pin_workers: bool,
    /// Nice value of the worker threads, -20 to 19 (ordinary processes run at 0). Below 0
    /// they are scheduled ahead of the other processes sharing their CPUs, so the data plane
    /// runs promptly when frames arrive; Open vSwitch's `ovs-ctl` starts ovs-vswitchd at -10
    /// likewise. Below 0 needs `CAP_SYS_NICE` (without it the workers stay at the process's
    /// value, with a warning).
    #[arg(long, default_value_t = -10, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(-20..=19))]
    worker_nice: i32,
    /// Receive ring layout: `v2` (a frame per slot, the reader is woken per frame: lowest
    /// latency) or `v3` (frames packed in blocks handed over when full or after 1 ms: fewer
    /// wake-ups under capture-style load, up to 1 ms of delay per lone frame).
    #[arg(long, default_value_t = RingVersion::default())]
    rx_ring: RingVersion,
    /// Send every frame as it was switched: no merging of consecutive TCP segments of a
    /// stream into super-frames the kernel segments (GSO).
    #[arg(long)]
    no_tcp_coalescing: bool,
    /// Leave the ports' generic receive offload as it is. By default the switch turns GRO on
    /// for every port it receives on (`ethtool -K PORT gro on`), so the interface merges a
    /// TCP stream's segments before the switch sees them and the switch forwards one
    /// super-frame instead of each segment (a hardware representor usually has it on
    /// already; a veth does not).
    #[arg(long)]
    no_port_gro: bool,
    /// After a burst, keep checking the receive rings for this many microseconds (yielding
    /// the CPU between checks) before sleeping: fewer wake-ups under a steady stream and a
    /// quicker pick-up of the next frame, at the cost of a worker that stays runnable that
    /// long after the traffic stops. 0: sleep at once.
    #[arg(long, default_value_t = 50)]
    rx_spin_us: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.log.init().context("--log-level")?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    logged(rt.block_on(run(args)))
}

/// Reads the configuration and fills in the VTEP's MAC from its uplink when not given.
fn load_config(path: &Path) -> anyhow::Result<SwitchConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut config: SwitchConfig = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
    } else {
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
    };
    config.validate().with_context(|| format!("invalid configuration {}", path.display()))?;
    complete(&mut config)?;
    Ok(config)
}

/// Fills in the VTEP's MAC from its uplink interface when the configuration has none. An
/// uplink that does not exist (yet) leaves it unset: the VTEP is then applied inactive and
/// [`activate_vtep`] fills it in later.
fn complete(config: &mut SwitchConfig) -> Result<(), ConfigError> {
    if let Some(v) = &mut config.vtep
        && v.local_mac.is_none()
    {
        match uplink_mac(&v.uplink) {
            Ok(mac) => v.local_mac = Some(mac),
            Err(e) => warn!(uplink = %v.uplink, error = %e, "the VTEP waits for its uplink's MAC"),
        }
    }
    Ok(())
}

/// The MAC of interface `uplink` of this process's network namespace: getifaddrs(3) asks
/// the kernel over netlink (sysfs would show the namespace it was mounted in, another one
/// for a process that entered a namespace without remounting it).
fn uplink_mac(uplink: &str) -> std::io::Result<String> {
    let links = nix::ifaddrs::getifaddrs().map_err(std::io::Error::from)?;
    links
        .filter(|l| l.interface_name == uplink)
        .filter_map(|l| l.address?.as_link_addr()?.addr())
        .map(|mac| dpu_wire::MacAddr(mac).to_string())
        .next()
        .ok_or_else(|| std::io::Error::other(format!("no interface {uplink} with a MAC")))
}

/// Applies the configuration again with its VTEP's MAC once the uplink has one (the VTEP
/// runs inactive until then), and tells the agent its status changed. `refused`: the last
/// MAC the switch refused (not a unicast one), tried again only once it changes.
fn activate_vtep(switch: &Mutex<Switch>, refused: &mut Option<String>) {
    let lock = || switch.lock().unwrap_or_else(|p| p.into_inner());
    let waiting =
        lock().config().vtep.as_ref().filter(|v| v.local_mac.is_none()).map(|v| v.uplink.clone());
    let Some(uplink) = waiting else { return };
    let Ok(mac) = uplink_mac(&uplink) else { return };
    if refused.as_ref() == Some(&mac) {
        return;
    }
    let mut sw = lock();
    let mut config = sw.config().clone();
    match &mut config.vtep {
        Some(v) if v.uplink == uplink && v.local_mac.is_none() => v.local_mac = Some(mac.clone()),
        _ => return,
    }
    match sw.apply(config, Instant::now()) {
        Ok(()) => {
            info!(%uplink, "the VTEP is active with its uplink's MAC");
            dpu_runtime::control::status_changed();
        }
        Err(e) => {
            warn!(%uplink, error = %e, "the VTEP's uplink MAC was refused");
            *refused = Some(mac);
        }
    }
}

#[derive(serde::Serialize)]
struct StatusFile<'a> {
    status: dpu_switch::Status,
    /// The first page of each table: the file is written under the switch's lock every
    /// interval, so it costs a page, not the table (the totals say how much more there is).
    mac_table: dpu_switch::MacPage,
    flows: dpu_switch::FlowPage,
    routes: Vec<dpu_switch::RouteView>,
    neighbours: Vec<dpu_switch::NeighbourView>,
    worker: &'a WorkerStats,
}

fn write_status(
    path: &Path,
    switch: &Mutex<Switch>,
    workers: &[Arc<Mutex<WorkerStats>>],
) -> anyhow::Result<()> {
    let now = Instant::now();
    let worker = workers.iter().fold(WorkerStats::default(), |mut sum, w| {
        sum.add(&w.lock().unwrap_or_else(|p| p.into_inner()));
        sum
    });
    let json = {
        let sw = switch.lock().unwrap_or_else(|p| p.into_inner());
        let file = StatusFile {
            status: sw.status(),
            mac_table: sw.mac_page(now, 0, 1000),
            flows: sw.flows(now, 0, 1000),
            routes: sw.routes(),
            neighbours: sw.neighbours(),
            worker: &worker,
        };
        serde_json::to_vec_pretty(&file)?
    };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    use nix::sched::{CpuSet, sched_getaffinity};
    sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map(|set| (0..CpuSet::count()).filter(|&c| set.is_set(c).unwrap_or(false)).collect())
        .unwrap_or_default()
}

/// Restricts the calling thread to `cpu` (pid 0: the caller).
fn pin_current_thread(cpu: usize) -> nix::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu)?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let signals =
        dpu_runtime::signals::ShutdownSignals::install().context("installing signal handlers")?;
    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let config = match &args.config {
        Some(path) => load_config(path)?,
        None => SwitchConfig::default(),
    };
    let switch = Arc::new(Mutex::new(
        Switch::new(config, Instant::now()).context("applying the configuration")?,
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let cpus = allowed_cpus();
    let mut stats = Vec::new();
    let mut handles = Vec::new();
    for index in 0..args.workers {
        let ring = args.rx_ring;
        let coalesce = !args.no_tcp_coalescing;
        let port_gro = !args.no_port_gro;
        let open: Opener = Box::new(move |spec| {
            let port = match spec.role {
                PortRole::ReceiveAndSend => {
                    if port_gro && let Err(e) = dpu_switch::io::sys::set_gro(spec.name, true) {
                        // Still a working port: the switch then sees every segment.
                        warn!(port = spec.name, "cannot turn GRO on: {e}");
                    }
                    dpu_switch::io::afpacket::warn_if_interface_mtu_below(spec.name, spec.mtu);
                    AfPacketPort::open_with(spec.name, RingConfig::for_port(ring, spec.mtu))?
                }
                PortRole::SendOnly => AfPacketPort::open_send_only(spec.name)?,
            };
            Ok(Box::new(port.with_tcp_coalescing(coalesce)) as Box<dyn PortIo>)
        });
        let shard = Shard { index, count: args.workers };
        let mut worker = Worker::sharded(Arc::clone(&switch), open, shard)
            .with_rx_spin(Duration::from_micros(args.rx_spin_us));
        stats.push(worker.stats());
        let stop_worker = Arc::clone(&stop);
        let cpu =
            (args.pin_workers && !cpus.is_empty()).then(|| cpus[usize::from(index) % cpus.len()]);
        let nice = args.worker_nice;
        let handle = std::thread::Builder::new()
            .name(format!("dpu-switch-worker-{index}"))
            .spawn(move || {
                if let Err(e) = dpu_switch::io::sys::set_thread_nice(nice) {
                    warn!(worker = index, nice, error = %e, "cannot set the worker's nice value");
                }
                if let Some(cpu) = cpu
                    && let Err(e) = pin_current_thread(cpu)
                {
                    warn!(worker = index, cpu, error = %e, "cannot pin the worker");
                }
                worker.run(&stop_worker)
            })
            .context("starting a worker thread")?;
        handles.push(handle);
    }
    let (api_stop, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api = match &args.socket {
        Some(path) => {
            let listener = dpu_runtime::unix::bind(path)?;
            let complete: Completer = Arc::new(complete);
            let internal = SwitchInternal::new(Arc::clone(&switch), complete);
            Some(tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(internal.into_server())
                    .add_service(dpu_switch::api::control().into_server())
                    .serve_with_incoming_shutdown(listener, async {
                        let _ = api_stopped.await;
                    }),
            ))
        }
        None => None,
    };
    info!(
        config = ?args.config,
        socket = ?args.socket,
        rx_ring = %args.rx_ring,
        instance_id = dpu_switch::api::instance_id(),
        "switch running"
    );
    dpu_runtime::notify_ready();

    let shutdown = signals.recv();
    tokio::pin!(shutdown);
    let mut interval =
        tokio::time::interval(Duration::from_millis(args.status_interval_ms.max(10)));
    let mut refused_vtep_mac = None;
    let result = loop {
        tokio::select! {
            sig = &mut shutdown => {
                info!(signal = sig, "shutting down");
                break Ok(());
            }
            _ = hup.recv() => match args.config.as_deref().map(load_config) {
                None => info!("SIGHUP without --config: nothing to reload"),
                // The agent's configuration would be replaced behind its back (its
                // statuses saying APPLIED); the file serves only until the agent's first sync.
                Some(_) if args.socket.is_some() => {
                    warn!("SIGHUP ignored: with --socket the agent owns the configuration");
                }
                Some(Ok(c)) => {
                    let r = switch.lock().unwrap_or_else(|p| p.into_inner()).apply(c, Instant::now());
                    match r {
                        Ok(()) => info!("configuration reloaded"),
                        Err(e) => warn!(error = %e, "configuration refused; keeping the current one"),
                    }
                }
                Some(Err(e)) => warn!(error = format!("{e:#}"), "configuration refused; keeping the current one"),
            },
            _ = interval.tick() => {
                if handles.iter().any(|h| h.is_finished()) {
                    break Err(anyhow::anyhow!("a worker thread stopped"));
                }
                activate_vtep(&switch, &mut refused_vtep_mac);
                if let Some(path) = &args.status_file
                    && let Err(e) = write_status(path, &switch, &stats)
                {
                    warn!(error = format!("{e:#}"), "status file");
                }
            }
        }
    };
    dpu_runtime::notify_stopping();
    let _ = api_stop.send(());
    if let Some(api) = api {
        match tokio::time::timeout(Duration::from_secs(5), api).await {
            Ok(Ok(Err(e))) => warn!(error = %e, "internal API server failed"),
            Ok(_) => {}
            Err(_) => warn!("internal API clients still connected; exiting anyway"),
        }
        if let Some(path) = &args.socket
            && let Err(e) = std::fs::remove_file(path)
        {
            warn!(error = %e, socket = %path.display(), "cannot remove socket");
        }
    }
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => bail!("worker: {e}"),
            Err(_) => bail!("worker thread panicked"),
        }
    }
    result
}
