//! `dpu-bench AREA`: measures one area and prints one JSON line per figure:
//! `{"bench":"area.what","value":..,"unit":..,"peer":..,"peer_value":..,"ratio":..}`.
//! A ratio above 1 means ours is better. Methods are described in docs/benchmarks.md.

mod agent;
mod clock;
mod nvmf;
mod report;
mod switch;

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
enum Area {
    Agent,
    Nvmf,
    Switch,
    /// Internal: the agent bench's plaintext peer, in its own process as dpud is.
    #[value(hide = true)]
    PlaintextPeer,
    /// Internal: the switch bench's small-packet UDP sender (runs in a lab VM).
    #[value(hide = true)]
    UdpBlast,
    /// Internal: the switch bench's UDP receiver (runs in a lab VM).
    #[value(hide = true)]
    UdpSink,
}

#[derive(Parser)]
struct Args {
    area: Area,
    /// Directory holding the release binaries (dpud, dpu-system, dpuctl).
    #[arg(long, default_value = ".")]
    bin_dir: std::path::PathBuf,
    /// Port of the plaintext peer (internal).
    #[arg(long, default_value_t = 0, hide = true)]
    port: u16,
    /// Scale every count down (e.g. 10 for a quick check); figures then are not comparable.
    #[arg(long, default_value_t = 1)]
    scale_down: usize,
    /// Address of the UDP blaster's target or the sink's bind address (internal).
    #[arg(long, default_value = "127.0.0.1:9", hide = true)]
    addr: std::net::SocketAddr,
    /// Duration of the UDP blaster or sink in seconds (internal).
    #[arg(long, default_value_t = 1, hide = true)]
    secs: u32,
    /// nvmf and switch: run only the figures whose name contains one of these (comma
    /// separated), e.g. `randread_4k_qd32_vs,seqwrite` or `l2_cached,veth`.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// nvmf: which side of each figure runs (one side alone, for profiling it).
    #[arg(long, value_enum, default_value = "both")]
    side: nvmf::Side,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.area {
        Area::Agent => agent::run(&args.bin_dir, args.scale_down).await,
        Area::Nvmf => nvmf::run(args.scale_down, &args.only, args.side).await,
        Area::Switch => switch::run(&args.bin_dir, args.scale_down, &args.only).await,
        Area::PlaintextPeer => agent::serve_plaintext_peer(args.port).await,
        Area::UdpBlast => switch::udp_blast(args.addr, args.secs),
        Area::UdpSink => switch::udp_sink(args.addr, args.secs),
    }
}
