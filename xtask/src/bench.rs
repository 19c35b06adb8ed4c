//! `cargo xtask bench AREA`: release build, then the area's benchmark, which prints one JSON line
//! per figure (method in docs/benchmarks.md).

use anyhow::Result;

use crate::util::{cargo, run, target_dir};

pub fn run_area(area: &str) -> Result<()> {
    println!("xtask bench {area}: checking the peers' packages");
    crate::prereq::ensure_apt(crate::prereq::BENCH_APT)?;
    println!("xtask bench {area}: building release binaries");
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "dpud",
        "-p",
        "dpu-system",
        "-p",
        "dpuctl",
        "-p",
        "dpu-switch",
        "-p",
        "dpu-bench",
        "--bins",
    ]))?;
    let release = target_dir().join("release");
    println!("xtask bench {area}: running (JSON lines follow)");
    run(std::process::Command::new(release.join("dpu-bench"))
        .arg(area)
        .arg("--bin-dir")
        .arg(&release))
}
