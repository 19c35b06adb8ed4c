//! `dpu-nvmf`: the NVMe/TCP target service. Its configuration comes from a TOML file
//! (`--config`), from the agent over the internal gRPC API on a Unix socket
//! (`--socket`), or both (the file is the state before the first sync).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use dpu_nvmf::config::Config;
use dpu_nvmf::internal::NvmfInternal;
use dpu_nvmf::persist::NamespaceStore;
use dpu_nvmf::volume_records::VolumeRecords;
use dpu_nvmf::{Server, Target};
use dpu_runtime::logging::{LogArgs, logged};
use tracing::{info, warn};

/// How long in-flight internal calls may take to finish after SIGTERM/SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// NVMe/TCP target: serves subsystems, namespaces and listeners.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TOML configuration (volumes, subsystems, namespaces, listeners).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Unix socket for the agent's internal API (created 0600).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Directory for state that outlives a restart: the reservations of namespaces whose
    /// hosts ask for Persist Through Power Loss, a host's Write Protect (Feature 84h), and
    /// which file volumes were opened (a missing file is made only at a volume's first
    /// opening). Without it, PTPL is not supported, Write Protect lasts until the service
    /// stops, and a file volume's file missing at a start is made anew.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Volume I/O operations running at once, 1 to 512; overrides the file's `io_threads`
    /// (default: the file's, else 16).
    #[arg(long,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
              .range(1..=dpu_nvmf::server::MAX_IO_THREADS as u64))]
    io_threads: Option<usize>,
    /// MiB of write data the connections of all listeners may have asked for by R2T and
    /// not yet received, beyond each queue's first R2T, a quarter of it per host address,
    /// 1 to 16,384; overrides the file's
    /// `write_data_budget_mib` (default: the file's, else 256).
    #[arg(long,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
              .range(1..=dpu_nvmf::write_budget::MAX_WRITE_BUDGET_MIB as u64))]
    write_data_budget_mib: Option<usize>,
    /// Connections that may wait for their Fabrics Connect at once, over all listeners;
    /// beyond it new connections are closed as they are accepted (a bound on what peers
    /// that never connect can hold), 1 to 1,048,576.
    #[arg(long, default_value_t = dpu_nvmf::server::MAX_UNCONNECTED,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
              .range(1..=dpu_nvmf::server::MAX_UNCONNECTED_LIMIT as u64))]
    max_unconnected: usize,
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.log.init().context("--log-level")?;
    logged(dpu_runtime::run_service(SHUTDOWN_GRACE, run(args))?)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let signals =
        dpu_runtime::signals::ShutdownSignals::install().context("installing signal handlers")?;
    if args.config.is_none() && args.socket.is_none() {
        anyhow::bail!("nothing to serve: give --config, --socket or both");
    }
    let config = match &args.config {
        Some(path) => Some(Config::load(path)?),
        None => None,
    };
    dpu_runtime::raise_open_files_limit();
    let target = Target::new();
    let volume_records = match &args.state_dir {
        Some(dir) => {
            let store = NamespaceStore::open(dir).context("--state-dir")?;
            target.set_namespace_store(std::sync::Arc::new(store));
            VolumeRecords::open(dir).context("--state-dir")?
        }
        None => {
            warn!(
                "no --state-dir: reservations do not persist, and a file volume whose file is \
                 missing when the service starts is made anew, empty"
            );
            VolumeRecords::in_memory()
        }
    };
    let volume_records = std::sync::Arc::new(volume_records);
    // As everywhere on the command line: a flag given wins over the file.
    let io_threads = args.io_threads.unwrap_or_else(|| {
        config.as_ref().map_or(dpu_nvmf::config::DEFAULT_IO_THREADS, |c| c.io_threads)
    });
    let write_data_budget_mib = args.write_data_budget_mib.unwrap_or_else(|| {
        config
            .as_ref()
            .map_or(dpu_nvmf::write_budget::DEFAULT_WRITE_BUDGET_MIB, |c| c.write_data_budget_mib)
    });
    let server = Server::new(target.clone(), io_threads);
    server.set_max_unconnected(args.max_unconnected);
    server.set_write_data_budget(write_data_budget_mib << 20);
    if let Some(config) = &config {
        // Sockets before volumes: an address that does not bind (not this host's, in use)
        // refuses the file before a volume file is created or grown. Hosts that connect
        // meanwhile wait in the backlog until the namespaces are there.
        let mut sockets = Vec::new();
        for (spec, _) in config.listener_specs() {
            sockets.push(dpu_nvmf::server::bind(spec.addr).await?);
        }
        config.apply_recorded(&target, &volume_records)?;
        let ana = config.ana_states()?;
        for ((spec, referrals), socket) in config.listener_specs().into_iter().zip(sockets) {
            let states = ana.get(&spec.port_id).cloned().unwrap_or_default();
            let bound = server.serve_listener(spec, socket, &states)?;
            target.set_referrals(bound, referrals);
        }
        if let Some(store) = target.namespace_store() {
            // Alone, the file is the whole desired state: the saved state of namespaces it
            // does not have goes. With the agent, its first Sync says which are wanted.
            let wanted = args.socket.is_none().then(Default::default);
            store
                .sync(&target.all_namespaces(), wanted.as_ref())
                .context("saving namespace state")?;
        }
    }
    let mut grpc = None;
    if let Some(socket) = &args.socket {
        let listener = dpu_runtime::unix::bind(socket)?;
        let control = dpu_nvmf::internal::control();
        info!(socket = %socket.display(), instance_id = %control.info().instance_id, "internal API listening");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let serve = tonic::transport::Server::builder()
            .add_service(
                NvmfInternal::new(server.clone())
                    .with_volume_records(volume_records.clone())
                    .into_server(),
            )
            .add_service(control.into_server())
            .serve_with_incoming_shutdown(listener, async {
                let _ = stop_rx.await;
            });
        grpc = Some((tokio::spawn(serve), stop_tx, socket.clone()));
    }
    info!(io_threads, write_data_budget_mib, "NVMe/TCP target ready");
    dpu_runtime::notify_ready();
    let signal = signals.recv().await;
    info!(signal, "shutting down");
    dpu_runtime::notify_stopping();
    server.stop();
    if let Some((task, stop, socket)) = grpc {
        let _ = stop.send(());
        if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
            warn!(grace = ?SHUTDOWN_GRACE, "internal clients still connected; exiting anyway");
        }
        if let Err(err) = std::fs::remove_file(&socket) {
            warn!(%err, socket = %socket.display(), "cannot remove socket");
        }
    }
    Ok(())
}
