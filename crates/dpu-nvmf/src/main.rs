//! `dpu-nvmf`: the NVMe/TCP target service.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use dpu_nvmf::config::Config;
use dpu_nvmf::{Server, Target};
use dpu_runtime::logging::LogFormat;
use tracing::{error, info};

/// NVMe/TCP target: serves the configured subsystems, namespaces and listeners.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TOML configuration (volumes, subsystems, namespaces, listeners).
    #[arg(long)]
    config: PathBuf,
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log filter, e.g. "info" or "info,dpu_nvmf=debug".
    #[arg(long, default_value = "info")]
    log_level: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    dpu_runtime::logging::init(args.log_format, &args.log_level).context("--log-level")?;
    if let Err(err) = run(args).await {
        error!("{err:#}");
        return Err(err);
    }
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let signals =
        dpu_runtime::signals::ShutdownSignals::install().context("installing signal handlers")?;
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let config = Config::parse(&text)?;
    let target = Target::new();
    config.apply(&target)?;
    let server = Server::new(target, config.io_threads);
    if let Some(addr) = config.discovery {
        server.add_discovery_listener(addr).await?;
    }
    for spec in config.listener_specs() {
        server.add_listener(spec).await?;
    }
    info!(subsystems = config.subsystems.len(), "NVMe/TCP target ready");
    dpu_runtime::notify_ready();
    let signal = signals.recv().await;
    info!(signal, "shutting down");
    dpu_runtime::notify_stopping();
    server.stop();
    Ok(())
}
