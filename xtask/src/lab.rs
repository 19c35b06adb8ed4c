//! `cargo xtask lab up|down|cleanup`: the namespace lab by hand.

use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use dpu_lab::{Lab, LabOptions, Role};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::prereq;

/// Labs started by `cargo xtask lab up` (tests use `dl`, the demo `dm`).
pub const LAB_BASE: &str = "xl";
/// Every prefix base this repository uses.
pub const ALL_BASES: &[&str] =
    &[dpu_lab::DEFAULT_PREFIX_BASE, LAB_BASE, crate::demo::DEMO_BASE, dpu_lab::BENCH_PREFIX_BASE];

/// Waits for Ctrl-C, SIGTERM or SIGHUP (installs the handler once per process).
pub fn interrupt_channel() -> Result<mpsc::Receiver<()>> {
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("installing the Ctrl-C handler")?;
    Ok(rx)
}

pub fn print_topology(lab: &Lab) {
    println!("lab {} is up:", lab.prefix());
    println!("  {:<18} tmfifo_net0 {}/30", lab.ns_name(Role::Host), dpu_lab::HOST_TMFIFO_IP);
    println!(
        "  {:<18} tmfifo_net0 {}/30, pf0vf0, pf0vf1, p0 {}/24",
        lab.ns_name(Role::Dpu),
        dpu_lab::DPU_TMFIFO_IP,
        dpu_lab::DPU_UPLINK_IP
    );
    println!("  {:<18} eth0 (peer of pf0vf0)", lab.ns_name(Role::Vm1));
    println!("  {:<18} eth0 (peer of pf0vf1)", lab.ns_name(Role::Vm2));
    println!("  {:<18} eth0 {}/24 (peer of p0)", lab.ns_name(Role::Fabric), dpu_lab::FABRIC_IP);
}

fn up() -> Result<()> {
    prereq::ensure_apt(prereq::LAB_APT)?;
    let stop = interrupt_channel()?;
    let lab = Lab::up(LabOptions { prefix_base: LAB_BASE.into(), ..LabOptions::default() })?;
    print_topology(&lab);
    println!("enter a namespace with: ip netns exec {} bash", lab.ns_name(Role::Host));
    println!("Ctrl-C (or `cargo xtask lab down`) tears it down.");
    // Blocks until a signal arrives; the sender lives in the handler for the whole process.
    let _ = stop.recv();
    println!("\ntearing down lab {}", lab.prefix());
    lab.down()?;
    println!("lab removed");
    Ok(())
}

/// Asks every running `cargo xtask lab up` to tear down, then removes what is left.
fn down() -> Result<()> {
    // First the stale ones; what is left belongs to live owners (their lock is held).
    let report = dpu_lab::cleanup_stale(LAB_BASE)?;
    for ns in &report.removed {
        println!("removed stale namespace {ns}");
    }
    let owners: Vec<(String, i32)> = report
        .live_prefixes
        .iter()
        .filter_map(|p| owner_pid(p).map(|pid| (p.clone(), pid)))
        .collect();
    if owners.is_empty() {
        println!("no lab of `cargo xtask lab up` is running");
    }
    for (prefix, pid) in &owners {
        println!("asking pid {pid} to tear down lab {prefix}");
        let _ = kill(Pid::from_raw(*pid), Signal::SIGTERM);
    }
    // Bounded wait for the owners to finish their teardown.
    for _ in 0..150 {
        let listed = dpu_lab::list_netns()?;
        if !listed.iter().any(|ns| owners.iter().any(|(p, _)| ns.starts_with(&format!("{p}-")))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    cleanup(&[LAB_BASE])
}

fn owner_pid(prefix: &str) -> Option<i32> {
    let digits = prefix.strip_prefix(LAB_BASE)?.split('n').next()?;
    digits.parse().ok().filter(|p| *p > 0)
}

fn cleanup(bases: &[&str]) -> Result<()> {
    for base in bases {
        let report = dpu_lab::cleanup_stale(base)?;
        for ns in &report.removed {
            println!("removed stale namespace {ns}");
        }
        for prefix in &report.live_prefixes {
            println!("left lab {prefix} alone: its owner still runs");
        }
        if !report.problems.is_empty() {
            anyhow::bail!("cleanup left things behind: {}", report.problems.join("; "));
        }
    }
    Ok(())
}

/// The cleanup step of `cargo xtask test`.
pub fn cleanup_quiet() -> Result<()> {
    prereq::ensure_apt(prereq::LAB_APT)?;
    cleanup(ALL_BASES)?;
    println!("    no stale lab namespaces left");
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum LabCommand {
    /// Build the lab and keep it until Ctrl-C.
    Up,
    /// Tear down labs started by `cargo xtask lab up`.
    Down,
    /// Remove namespaces left behind by crashed runs (of tests, demo or `lab up`).
    Cleanup,
}

pub fn main(cmd: LabCommand) -> Result<()> {
    match cmd {
        LabCommand::Up => up(),
        LabCommand::Down => down(),
        LabCommand::Cleanup => {
            cleanup(ALL_BASES)?;
            println!("done");
            Ok(())
        }
    }
}
