//! `dpu-system`: serves the system service on a Unix socket for the agent.

mod shell;

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use dpu_system::inventory::Sources;
use dpu_system::server::{Control, SystemInternal};
use dpu_system::sysctl::{Applier, DEFAULT_ROOT};
use tokio_stream::wrappers::UnixListenerStream;
use tracing::{error, info};

use crate::shell::LogFormat;

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
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log filter, e.g. "info" or "info,dpu_system=debug".
    #[arg(long, default_value = "info")]
    log_level: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    shell::init_logging(args.log_format, &args.log_level)?;
    if let Err(err) = run(args).await {
        error!("{err:#}");
        return Err(err);
    }
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let signals = shell::ShutdownSignals::install()?;
    let listener = shell::bind_unix_socket(&args.socket)?;
    let control = Control::new();
    info!(
        socket = %args.socket.display(),
        sysctl_root = %args.sysctl_root.display(),
        instance_id = %control.info().instance_id,
        version = dpu_system::VERSION,
        "system service listening"
    );
    shell::notify_ready();

    let system = SystemInternal::new(Applier::new(&args.sysctl_root), Sources::default());
    let shutdown = async {
        let signal = signals.recv().await;
        info!(signal, "shutting down");
    };
    let served = tonic::transport::Server::builder()
        .add_service(system.into_server())
        .add_service(control.into_server())
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
        .await
        .context("gRPC server failed");
    // Leave no socket behind that nothing answers on.
    if let Err(err) = std::fs::remove_file(&args.socket) {
        tracing::warn!(%err, socket = %args.socket.display(), "cannot remove socket");
    }
    served
}
