//! `cargo xtask <command>`: all project automation, in Rust.

mod codegen;

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
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Codegen => codegen::run(),
    }
}
