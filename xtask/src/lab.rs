//! `cargo xtask lab up|down|cleanup`: the namespace lab by hand.

use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use dpu_lab::{Lab, LabOptions, Role};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::prereq;

/// Labs started by `cargo xtask lab up` (tests use `dl`, the demo `dm`).
pub const LAB_BASE: &str = dpu_lab::XTASK_PREFIX_BASE;
/// Every prefix base this repository uses: one list, which `Lab::up` enforces.
pub const ALL_BASES: &[&str] = dpu_lab::PREFIX_BASES;

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
    // Mounts are not per lab: those of every dead owner go.
    let mounts = dpu_lab::loopdev::cleanup_stale_mounts()?;
    for target in &mounts.unmounted {
        println!("unmounted stale mount {}", target.display());
    }
    if !mounts.problems.is_empty() {
        anyhow::bail!("cleanup left mounts behind: {}", mounts.problems.join("; "));
    }
    Ok(())
}

/// The cleanup step of `cargo xtask test`.
pub fn cleanup_quiet() -> Result<()> {
    prereq::ensure_apt(prereq::LAB_APT)?;
    cleanup(ALL_BASES)?;
    println!("    no stale lab namespaces or mounts left");
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum LabCommand {
    /// Build the lab and keep it until Ctrl-C.
    Up,
    /// Tear down labs started by `cargo xtask lab up`.
    Down,
    /// Remove namespaces and mounts left behind by crashed runs (of tests, demo or `lab up`).
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

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;

    /// The prefix bases named in `text` by a string literal: in a constant whose name ends in
    /// `_BASE` (how every base is declared), or given as `prefix_base` directly. Only valid
    /// bases count (a test of the refusal uses an invalid one, which never makes a lab).
    fn bases_in(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for line in text.lines() {
            let decl = line.find("_BASE: &str = \"").map(|i| i + "_BASE: &str = \"".len());
            let field = ["prefix_base: \"", "prefix_base = \""]
                .iter()
                .find_map(|p| line.find(p).map(|i| i + p.len()));
            if let Some(start) = decl.or(field)
                && let Some(len) = line[start..].find('"')
                && let base = &line[start..start + len]
                && (1..=8).contains(&base.len())
                && base.bytes().all(|b| b.is_ascii_lowercase())
            {
                found.push(base.to_owned());
            }
        }
        found
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("target") {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// `cargo xtask lab cleanup` removes the namespaces of every prefix base the repository
    /// uses (tests, benches, demo, `lab up`), so none of a killed run's labs stays behind.
    #[test]
    fn cleanup_knows_every_prefix_base_in_use() {
        let root = crate::util::root();
        let mut files = Vec::new();
        rust_files(&root.join("crates"), &mut files);
        rust_files(&root.join("xtask"), &mut files);
        let mut used = Vec::new();
        for file in &files {
            for base in bases_in(&fs::read_to_string(file).unwrap()) {
                used.push((base, file.strip_prefix(&root).unwrap().display().to_string()));
            }
        }
        assert!(used.iter().any(|(b, _)| b == "dl"), "the scan found no bases: {used:?}");
        let missing: Vec<_> =
            used.iter().filter(|(b, _)| !ALL_BASES.contains(&b.as_str())).collect();
        assert!(missing.is_empty(), "prefix bases that cleanup does not know: {missing:?}");
        // (Escaped, so that this file does not match itself.)
        assert_eq!(bases_in("const X_BASE: &str = \"ab\";"), ["ab"]);
        assert_eq!(bases_in("LabOptions { prefix_base: \"cd\".into() }"), ["cd"]);
        assert_eq!(bases_in("LabOptions { prefix_base: \"Bad-1\".into() }"), [""; 0]);
    }
}
