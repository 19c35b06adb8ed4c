//! Coverage-guided fuzzing on the stable toolchain.
//!
//! `crates/dpu-fuzz` holds the libFuzzer targets (`libfuzzer-sys`). cargo-fuzz would add
//! nightly-only `-Z` flags; we do not need them: SanitizerCoverage is reachable through stable
//! codegen flags (`-Cpasses=sancov-module` plus LLVM options), which is what feeds libFuzzer its
//! coverage (inline 8-bit counters, PC table, comparison tracing). No address sanitizer (that one
//! needs nightly), but debug assertions and overflow checks are on, and every panic is a crash.
//!
//! Only our own crates are instrumented: their code is what the targets explore. xtask is the
//! build's `RUSTC_WORKSPACE_WRAPPER`, which cargo runs for workspace members only and which
//! gives their artifacts file names of their own, so the plain builds of the tests are never
//! mixed up with instrumented ones. The dependencies are the plain ones the tests built: the
//! instrumented build of every dependency was the longest step of CI (8m43s of 36m13s).

use std::ffi::OsString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::util::{self, run};

/// The feature of crates/dpu-fuzz that every target requires, so that workspace-wide builds pass
/// the targets by; the fuzz build and the lint step turn it on.
pub const FEATURE: &str = "dpu-fuzz/fuzzing";

/// Set in the fuzz build's environment: xtask, started by cargo as the rustc wrapper, then adds
/// [`INSTRUMENT`] to what it compiles.
const WRAPPER_ENV: &str = "XTASK_FUZZ_RUSTC_WRAPPER";

/// What our crates are compiled with on top of the dev profile. opt-level 1 runs the targets
/// about ten times as fast as the profile's 0 (dpud_api: 1,229 inputs a second against 126) for
/// about a minute more of build; rustc turns debug assertions and overflow checks off above
/// opt-level 0 unless asked, so they are asked for.
const INSTRUMENT: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Copt-level=1",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

pub fn fuzz_dir() -> PathBuf {
    util::root().join("crates/dpu-fuzz")
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
    let mut cmd = util::cargo();
    cmd.args(["build", "--features", FEATURE])
        .env("RUSTC_WORKSPACE_WRAPPER", wrapper_path()?)
        .env(WRAPPER_ENV, "1");
    for t in targets {
        cmd.args(["--bin", t]);
    }
    run(&mut cmd)?;
    Ok(util::target_dir().join("debug"))
}

/// The path cargo runs as the wrapper: a link to this xtask named after [`INSTRUMENT`]. cargo
/// tells instrumented artifacts apart by the wrapper's path, not by what it does, so new flags
/// need a new name to be compiled in.
fn wrapper_path() -> Result<PathBuf> {
    let xtask = std::env::current_exe().context("cannot find the xtask executable")?;
    // FNV-1a: a name that changes with the flags, the same from one run to the next.
    let hash = INSTRUMENT
        .iter()
        .flat_map(|f| f.bytes().chain([0]))
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let dir = util::target_dir().join("fuzz");
    fs::create_dir_all(&dir)?;
    let link = dir.join(format!("rustc-wrapper-{hash:016x}"));
    if fs::read_link(&link).ok().as_deref() != Some(xtask.as_path()) {
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&xtask, &link)
            .with_context(|| format!("linking {} to {}", link.display(), xtask.display()))?;
    }
    Ok(link)
}

/// The rustc wrapper of [`build`]: when cargo started xtask as one, this runs rustc with the
/// coverage flags and does not return. Build scripts and proc macros run at build time, without
/// libFuzzer's runtime to link against, so they compile as they are.
pub fn act_as_rustc_wrapper_if_asked() {
    if std::env::var_os(WRAPPER_ENV).is_none() {
        return;
    }
    let mut args = std::env::args_os().skip(1);
    let Some(rustc) = args.next() else {
        eprintln!("xtask as rustc wrapper: no rustc to run");
        std::process::exit(2);
    };
    let args: Vec<OsString> = args.collect();
    let mut cmd = Command::new(rustc);
    cmd.args(&args);
    if instruments(&args) {
        cmd.args(INSTRUMENT);
    }
    let err = cmd.exec();
    eprintln!("xtask as rustc wrapper: cannot run rustc: {err}");
    std::process::exit(2);
}

/// Whether a rustc command line compiles code that runs under libFuzzer.
fn instruments(args: &[OsString]) -> bool {
    let pairs: Vec<(&OsString, &OsString)> = args.iter().zip(args.iter().skip(1)).collect();
    let has = |flag: &str, value: &str| pairs.iter().any(|(f, v)| *f == flag && *v == value);
    let compiles = args.iter().any(|a| a == "--crate-name");
    let queries = args.iter().any(|a| a.to_string_lossy().starts_with("--print") || a == "-vV");
    compiles
        && !queries
        && !has("--crate-name", "build_script_build")
        && !has("--crate-type", "proc-macro")
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

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// Every file in fuzz_targets/ is a [[bin]] of the fuzz crate that requires its feature, so
    /// the smoke step runs it and workspace-wide builds (tests, aarch64, demo) pass it by.
    #[test]
    fn every_fuzz_target_is_declared_and_requires_the_feature() {
        let fuzz = manifest(fuzz_dir().join("Cargo.toml"));
        let (package, feature) = FEATURE.split_once('/').unwrap();
        assert_eq!(fuzz["package"]["name"].as_str(), Some(package));
        assert!(fuzz["features"].get(feature).is_some(), "{feature} is not a feature of {package}");
        let bins = fuzz["bin"].as_array().unwrap();
        for t in targets().unwrap() {
            let bin = bins.iter().find(|b| b["name"].as_str() == Some(t.as_str()));
            let bin = bin.unwrap_or_else(|| {
                panic!(
                    "fuzz_targets/{t}.rs needs a [[bin]] named {t:?} in crates/dpu-fuzz/Cargo.toml"
                )
            });
            assert_eq!(bin["path"].as_str(), Some(format!("fuzz_targets/{t}.rs").as_str()));
            assert_eq!(
                bin["required-features"]
                    .as_array()
                    .map(|f| f.iter().filter_map(|f| f.as_str()).collect::<Vec<_>>()),
                Some(vec![feature]),
                "[[bin]] {t:?} must require the {feature:?} feature"
            );
        }
    }

    /// What the wrapper instruments: the code of our crates, never a build script, a proc macro
    /// or cargo's queries of rustc.
    #[test]
    fn the_wrapper_instruments_only_code_that_runs_under_libfuzzer() {
        let lib = os(&["--crate-name", "dpu_wire", "--edition=2024", "--crate-type", "lib"]);
        let bin = os(&["--crate-name", "nvmf_pdu", "--crate-type", "bin", "src/x.rs"]);
        assert!(instruments(&lib) && instruments(&bin));
        let script = os(&["--crate-name", "build_script_build", "--crate-type", "bin"]);
        let proc_macro = os(&["--crate-name", "derive_x", "--crate-type", "proc-macro"]);
        let probe = os(&["-", "--crate-name", "___", "--print=file-names"]);
        let version = os(&["-vV"]);
        for args in [script, proc_macro, probe, version] {
            assert!(!instruments(&args), "{args:?}");
        }
    }
}
