//! `cargo xtask test`: everything CI checks, in order, failing fast.

use std::process::Command;
use std::time::Duration;

use anyhow::Result;

use crate::prereq::{self, AARCH64};
use crate::util::{Steps, cargo, run};
use crate::{emulated, fuzz, lab};

/// How long each fuzz target runs in the smoke step: 13 targets, one per core at a time, take
/// under a minute and a half on two cores.
pub const FUZZ_SMOKE: Duration = Duration::from_secs(13);

pub fn run_all(quick: bool) -> Result<()> {
    let total = if quick { 5 } else { 8 };
    let mut steps = Steps::new("xtask test", total);
    println!(
        "xtask test: {} ({total} steps)",
        if quick { "quick run, no aarch64 and no fuzzing" } else { "full run" }
    );

    steps
        .step("prerequisites (apt, rustup target and components, pip)", prereq::ensure_for_test)?;
    steps.step("remove stale lab namespaces of crashed runs", lab::cleanup_quiet)?;
    steps.step("format: cargo fmt --all --check", || {
        run(cargo().args(["fmt", "--all", "--check"]))
    })?;
    steps.step("lint: cargo clippy --workspace --all-targets, the fuzz targets too", || {
        // The fuzz targets build only with their feature on (see fuzz.rs).
        run(without_incremental(&mut cargo()).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--features",
            fuzz::FEATURE,
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    steps.step("tests: cargo test --workspace", || {
        // Integration tests drive other packages' binaries (dpud's tests run dpuctl and
        // dpu-system from target/debug). `cargo test --workspace` builds them: it builds the
        // binaries of every package with integration tests, all before it runs any test. A
        // `cargo build --bins` first would build them once more, without the dev-dependencies'
        // features (tokio's test-util), for nothing.
        run(without_incremental(&mut cargo()).args(["test", "--workspace"]))
    })?;
    if !quick {
        steps.step("aarch64: cross-build the workspace", || {
            run(without_incremental(&mut cargo()).args([
                "build",
                "--workspace",
                "--exclude",
                "xtask",
                "--target",
                AARCH64,
            ]))
        })?;
        steps.step("aarch64: unit tests under qemu-user, each binary timed", || {
            emulated::run_unit_tests(without_incremental(&mut cargo()))
        })?;
        steps.step("fuzz smoke: every target, bounded time", || fuzz::run_all(None, FUZZ_SMOKE))?;
    }
    steps.finish();
    Ok(())
}

/// `cmd` without incremental compilation, unless the caller chose (`CARGO_INCREMENTAL`).
/// A full check compiles each crate once, so the incremental caches only cost disk: on a
/// clean clone they were most of `target/`, and a CI run failed with "No space left on
/// device".
fn without_incremental(cmd: &mut Command) -> &mut Command {
    if std::env::var_os("CARGO_INCREMENTAL").is_none() {
        cmd.env("CARGO_INCREMENTAL", "0");
    }
    cmd
}
