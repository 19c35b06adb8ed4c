//! The `dpud` binary: parse flags, load the config, run the agent until SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// The DPU agent: gRPC control endpoint (mTLS), durable desired state, service reconciliation.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML).
    #[arg(long, short, env = "DPUD_CONFIG", default_value = "/etc/dpud/dpud.toml")]
    config: PathBuf,
    /// Take the state store as it is and count its objects again, then start. For a store
    /// an older release of the agent wrote to after this one (it does not keep the count,
    /// so this release finds it "lost acknowledged writes"), not for a damaged one.
    #[arg(long)]
    recount_store: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let signals =
        dpu_runtime::signals::ShutdownSignals::install().context("installing signal handlers")?;
    let config = dpud::Config::load(&args.config)
        .with_context(|| format!("loading {}", args.config.display()))?;
    dpu_runtime::logging::init(config.log_format, &config.log_level)?;
    // Every listener's connections must fit with room to spare (the store, service sockets,
    // the metrics endpoint), or a full listener would starve the others of descriptors.
    let files = dpu_runtime::raise_open_files_limit();
    let wanted: usize = config.listeners.iter().map(|l| l.max_connections).sum::<usize>() + 256;
    if files < wanted as u64 {
        tracing::warn!(
            limit = files,
            wanted,
            "open files limit below the listeners' max_connections: raise LimitNOFILE or lower them"
        );
    }
    let open = if args.recount_store {
        tracing::warn!(dir = %config.state_dir.display(),
            "taking the state store as it is and counting its objects again (--recount-store)");
        dpu_store::Store::open_recounted
    } else {
        dpu_store::Store::open
    };
    let agent = dpud::Agent::start_opening(config, open).await.context("starting the agent")?;
    dpu_runtime::notify_ready();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "dpud ready");
    let failed = tokio::select! {
        signal = signals.recv() => {
            tracing::info!(signal, "shutting down");
            None
        }
        why = agent.store_failed() => {
            tracing::error!(error = %why, "the state store failed to flush; stopping, to start again from what is on disk");
            Some(why)
        }
    };
    dpu_runtime::notify_stopping();
    agent.shutdown().await;
    tracing::info!("dpud stopped");
    match failed {
        Some(why) => anyhow::bail!("the state store failed to flush: {why}"),
        None => Ok(()),
    }
}
