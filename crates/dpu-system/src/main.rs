//! `dpu-system`: serves the system service on a Unix socket for the agent.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use dpu_system::inventory::Sources;
use dpu_system::server::SystemInternal;
use dpu_system::sysctl::{Applier, DEFAULT_ROOT};
use tracing::{info, warn};

use dpu_runtime::logging::{LogArgs, logged};

/// How long in-flight calls may take to finish after SIGTERM/SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The card's system service: inventory and sysctls, driven by the agent over a Unix socket.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Unix socket to serve on (created 0600; a stale one is replaced).
    #[arg(long)]
    socket: PathBuf,
    /// Directory that holds the sysctl files; tests point it at a scratch copy.
    #[arg(long, default_value = DEFAULT_ROOT)]
    sysctl_root: PathBuf,
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
    let listener = dpu_runtime::unix::bind(&args.socket)?;
    let control = dpu_system::server::control();
    info!(
        socket = %args.socket.display(),
        sysctl_root = %args.sysctl_root.display(),
        instance_id = %control.info().instance_id,
        version = dpu_system::VERSION,
        "system service listening"
    );
    dpu_runtime::notify_ready();

    let system = SystemInternal::new(Applier::new(&args.sysctl_root), Sources::default());
    // Ends with the runtime, when `run` returns.
    let keeper = system.clone();
    tokio::spawn(async move { keeper.keep_applied(dpu_system::server::KEEP_EVERY).await });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .add_service(system.into_server())
        .add_service(control.into_server())
        .serve_with_incoming_shutdown(listener, async {
            let _ = stop_rx.await;
        });
    tokio::pin!(server);
    let served = tokio::select! {
        result = &mut server => result.context("gRPC server failed"),
        signal = signals.recv() => {
            info!(signal, "shutting down");
            let _ = stop_tx.send(());
            // Graceful shutdown waits for clients to finish; one that never answers must not
            // keep the process alive.
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
                Ok(result) => result.context("gRPC server failed"),
                Err(_) => {
                    warn!(grace = ?SHUTDOWN_GRACE, "clients still connected; exiting anyway");
                    Ok(())
                }
            }
        }
    };
    // Leave no socket behind that nothing answers on.
    if let Err(err) = std::fs::remove_file(&args.socket) {
        warn!(%err, socket = %args.socket.display(), "cannot remove socket");
    }
    served
}
