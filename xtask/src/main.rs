//! `cargo xtask <command>`: all project automation, in Rust.

mod bench;
mod codegen;
mod demo;
mod demo_guest;
mod demo_switch;
mod emulated;
mod fuzz;
mod lab;
mod prereq;
mod test;
mod util;

use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "DPU services project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate crates/dpu-proto/src/gen from proto/.
    Codegen,
    /// Everything CI checks: prerequisites, fmt, clippy, tests, aarch64 build and tests under
    /// qemu-user, fuzz smoke.
    Test {
        /// Skip the aarch64 and fuzzing steps (local iteration).
        #[arg(long)]
        quick: bool,
    },
    /// The agent on a virtual card (network namespaces), driven with dpuctl from the host side.
    Demo,
    /// The namespace lab by hand.
    Lab {
        #[command(subcommand)]
        command: lab::LabCommand,
    },
    /// Run fuzz targets of crates/dpu-fuzz (coverage-guided libFuzzer, stable toolchain).
    Fuzz {
        /// One target (default: all of them, one per core at a time).
        target: Option<String>,
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        time: u64,
    },
    /// Benchmarks of one area, as JSON lines with ratios to a peer measured in the same run.
    Bench {
        /// The area: agent, nvmf or switch (see docs/benchmarks.md).
        area: String,
    },
    /// Internal: HTTP GET a URL and print the body (used inside lab namespaces).
    #[command(hide = true)]
    HttpGet { url: String },
    /// Internal: NVMe/TCP connect, identify, write a 4 KiB block and read it back (used
    /// inside lab namespaces).
    #[command(hide = true)]
    NvmfIo {
        /// Target address, e.g. 198.51.100.1:4420.
        addr: std::net::SocketAddr,
        /// Subsystem NQN.
        subnqn: String,
        /// Host NQN to connect as.
        hostnqn: String,
        /// A file holding the host's DH-HMAC-CHAP secret (DHHC-1:...), if the target asks.
        #[arg(long)]
        dhchap_secret_file: Option<std::path::PathBuf>,
    },
}

fn main() -> Result<()> {
    // The fuzz build runs xtask as its rustc wrapper (see fuzz.rs).
    fuzz::act_as_rustc_wrapper_if_asked();
    // The aarch64 unit tests run xtask as their runner (see emulated.rs).
    emulated::act_as_runner_if_asked();
    match Cli::parse().command {
        Command::Codegen => codegen::run(),
        Command::Test { quick } => test::run_all(quick),
        Command::Demo => demo::run_demo(),
        Command::Lab { command } => lab::main(command),
        Command::Fuzz { target, time } => {
            fuzz::run_all(target.as_deref(), Duration::from_secs(time))
        }
        Command::Bench { area } => bench::run_area(&area),
        Command::HttpGet { url } => demo::http_get(&url),
        Command::NvmfIo { addr, subnqn, hostnqn, dhchap_secret_file } => {
            demo::nvmf_io(addr, &subnqn, &hostnqn, dhchap_secret_file.as_deref())
        }
    }
}
