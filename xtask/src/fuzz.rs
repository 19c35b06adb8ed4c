//! Coverage-guided fuzzing on the stable toolchain.
//!
//! `crates/dpu-fuzz` is its own workspace of libFuzzer targets (`libfuzzer-sys`). cargo-fuzz would
//! add nightly-only `-Z` flags; we do not need them: SanitizerCoverage is reachable through stable
//! codegen flags (`-Cpasses=sancov-module` plus LLVM options), which is what feeds libFuzzer its
//! coverage (inline 8-bit counters, PC table, comparison tracing). No address sanitizer (that one
//! needs nightly), but debug assertions and overflow checks are on, and every panic is a crash.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::util::{self, run, stdout_of};

/// The cfg the targets are built with; their lint step passes it too, so clippy reads the code
/// that runs.
const FUZZ_CFG: &str = "--cfg=fuzzing";

const INSTRUMENT: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    FUZZ_CFG,
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

pub fn fuzz_dir() -> PathBuf {
    util::root().join("crates/dpu-fuzz")
}

fn host_triple() -> Result<String> {
    let out = stdout_of(Command::new("rustc").arg("-vV")).context("`rustc -vV` failed")?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|s| s.trim().to_owned())
        .context("`rustc -vV` printed no host line")
}

/// Every target: the file stems in `crates/dpu-fuzz/fuzz_targets/*.rs`, sorted.
pub fn targets() -> Result<Vec<String>> {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut names = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort();
    if names.is_empty() {
        bail!("no fuzz targets in {}", dir.display());
    }
    Ok(names)
}

/// Builds the given targets with coverage instrumentation; returns the directory of the binaries.
pub fn build(targets: &[String]) -> Result<PathBuf> {
    let manifest = fuzz_dir().join("Cargo.toml");
    let declared =
        fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
    for t in targets {
        if !declared.contains(&format!("name = \"{t}\"")) {
            bail!(
                "fuzz_targets/{t}.rs has no [[bin]] entry in {}: add one named \"{t}\"",
                manifest.display()
            );
        }
    }
    let host = host_triple()?;
    let target_dir = util::target_dir().join("fuzz");
    let mut cmd = util::cargo();
    // An explicit --target keeps the instrumentation off build scripts and proc macros.
    cmd.args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .args(["--target", &host, "--target-dir"])
        .arg(&target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", INSTRUMENT.join(" "));
    for t in targets {
        cmd.args(["--bin", t]);
    }
    run(&mut cmd)?;
    Ok(target_dir.join(host).join("release"))
}

/// `cargo clippy` of the fuzz targets, which the root's `--workspace` does not reach. It checks
/// in the root's target directory with the root's dev profile (the crate's own copy), so most
/// dependencies the root's clippy checked are reused (not those whose features differ). `--cfg=fuzzing` goes to clippy, which
/// passes it to the linted crate only: through RUSTFLAGS it would check every dependency anew,
/// and the coverage flags are codegen, which a check does not run.
pub fn clippy() -> Command {
    let mut cmd = util::cargo();
    cmd.args(["clippy", "--bins", "--manifest-path"])
        .arg(fuzz_dir().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(util::target_dir())
        .args(["--", "-D", "warnings", FUZZ_CFG]);
    cmd
}

/// Runs one built target for `time` and returns what it printed worth keeping; a crash fails with
/// the path of the reproducing input. Quiet while it runs, so that targets can run side by side.
pub fn run_target(bin_dir: &Path, target: &str, time: Duration) -> Result<String> {
    let work = util::target_dir().join("fuzz");
    let corpus = work.join("corpus").join(target);
    let artifacts = work.join("artifacts").join(target);
    fs::create_dir_all(&corpus)?;
    fs::create_dir_all(&artifacts)?;
    let mut cmd = Command::new(bin_dir.join(target));
    cmd.arg(format!("-max_total_time={}", time.as_secs().max(1)))
        .arg("-rss_limit_mb=2048")
        .arg("-timeout=10")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&corpus);
    // Checked-in seeds, when a target has them, are read but never written.
    let seeds = fuzz_dir().join("seeds").join(target);
    if seeds.is_dir() {
        cmd.arg(&seeds);
    }
    let mut report =
        format!("    fuzzing {target} for {}s\n    $ {}\n", time.as_secs(), util::show(&cmd));
    let out = cmd.output().with_context(|| format!("cannot start fuzz target {target}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // libFuzzer is chatty: keep the lines that tell what happened.
    for line in stderr.lines().filter(|l| {
        l.starts_with("INFO: Loaded")
            || l.starts_with("Done ")
            || l.starts_with("stat::number_of_executed_units")
            || l.starts_with("stat::new_units_added")
            || l.contains("DONE")
    }) {
        report.push_str(&format!("      {line}\n"));
    }
    if !out.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        for line in tail.into_iter().rev() {
            report.push_str(&format!("      | {line}\n"));
        }
        bail!(
            "{report}fuzz target {target} found a crash ({}); the input is in {}; reproduce with `{} <input>`",
            out.status,
            artifacts.display(),
            bin_dir.join(target).display()
        );
    }
    if !stderr.contains("inline 8-bit counters") {
        bail!("{report}fuzz target {target} ran without coverage instrumentation");
    }
    Ok(report)
}

/// `cargo xtask fuzz [TARGET] [--time SECS]`, and the smoke step of `cargo xtask test`.
/// libFuzzer runs one thread, so targets run side by side, one per core: the smoke step's
/// thirteen targets take half the time on CI's two cores.
pub fn run_all(only: Option<&str>, time: Duration) -> Result<()> {
    let mut all = targets()?;
    if let Some(t) = only {
        if !all.iter().any(|a| a == t) {
            bail!("no fuzz target {t:?}; targets: {}", all.join(", "));
        }
        all = vec![t.to_owned()];
    }
    println!("    fuzz targets: {}", all.join(", "));
    let bin_dir = build(&all)?;
    let side_by_side = std::thread::available_parallelism().map_or(1, |n| n.get()).min(all.len());
    let queue = Mutex::new(all.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..side_by_side {
            s.spawn(|| {
                loop {
                    // A failure stops the others from starting new targets; running ones finish.
                    let next = if failures.lock().is_ok_and(|f| f.is_empty()) {
                        queue.lock().ok().and_then(|mut q| q.next())
                    } else {
                        None
                    };
                    let Some(t) = next else { break };
                    match run_target(&bin_dir, t, time) {
                        Ok(report) => print!("{report}"),
                        Err(e) => {
                            if let Ok(mut f) = failures.lock() {
                                f.push(e);
                            }
                        }
                    }
                }
            });
        }
    });
    let mut failures =
        failures.into_inner().map_err(|_| anyhow::anyhow!("a fuzz runner panicked"))?.into_iter();
    match failures.next() {
        Some(first) => {
            for other in failures {
                println!("{other:#}");
            }
            Err(first)
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(path: PathBuf) -> toml::Value {
        toml::from_str(&fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The fuzz crate, a workspace of its own, lints as the root's members do, and shares the
    /// root's dev profile, without which its lint step checks every dependency again.
    #[test]
    fn fuzz_crate_shares_the_workspace_lints_and_dev_profile() {
        let fuzz = manifest(fuzz_dir().join("Cargo.toml"));
        let root = manifest(util::root().join("Cargo.toml"));
        assert_eq!(
            fuzz.get("lints"),
            root["workspace"].get("lints"),
            "crates/dpu-fuzz/Cargo.toml's [lints] must equal the root's [workspace.lints]"
        );
        assert_eq!(
            fuzz.get("profile").and_then(|p| p.get("dev")),
            root["profile"].get("dev"),
            "crates/dpu-fuzz/Cargo.toml's [profile.dev] must equal the root's"
        );
    }

    /// The lint step checks the targets with the cfg they are built with, in the shared target
    /// directory (not the fuzz crate's own `target/`, which would start cold).
    #[test]
    fn the_fuzz_lint_sees_the_built_cfg_in_the_shared_target_dir() {
        let cmd = clippy();
        let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let after = |flag: &str| args.iter().position(|a| a == flag).map(|i| args[i + 1].clone());
        let manifest = fuzz_dir().join("Cargo.toml");
        assert_eq!(after("--manifest-path").as_deref(), manifest.to_str());
        assert_eq!(after("--target-dir").as_deref(), util::target_dir().to_str());
        let clippy_args = &args[args.iter().position(|a| a == "--").unwrap()..];
        assert!(clippy_args.contains(&"warnings".to_owned()), "{args:?}");
        assert!(INSTRUMENT.contains(&FUZZ_CFG) && clippy_args.contains(&FUZZ_CFG.to_owned()));
    }

    /// Every file in fuzz_targets/ is a [[bin]] of the fuzz crate, so the smoke step runs it.
    #[test]
    fn every_fuzz_target_is_declared() {
        let fuzz = manifest(fuzz_dir().join("Cargo.toml"));
        let bins: Vec<(String, String)> = fuzz["bin"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (b["name"].as_str().unwrap().to_owned(), b["path"].as_str().unwrap().to_owned())
            })
            .collect();
        for t in targets().unwrap() {
            assert!(
                bins.contains(&(t.clone(), format!("fuzz_targets/{t}.rs"))),
                "fuzz_targets/{t}.rs needs a [[bin]] named {t:?} in crates/dpu-fuzz/Cargo.toml"
            );
        }
        // And it stays out of the root workspace (it builds with its own flags).
        let root = manifest(util::root().join("Cargo.toml"));
        let excluded = root["workspace"]["exclude"].as_array().unwrap();
        assert!(excluded.iter().any(|e| e.as_str() == Some("crates/dpu-fuzz")));
    }
}
