//! Test helper for `killed_owner_is_cleaned_up` (tests/lab.rs): brings a lab up (named with
//! the prefix base given as the first argument, if any), prints
//! `LAB <prefix> <pid of a process in it>`, then waits to be killed with SIGKILL, so none of
//! the lab's own teardown runs. Not useful on its own.

use std::process::Command;
use std::time::Duration;

use dpu_lab::{Lab, LabOptions, Role};

fn main() -> Result<(), dpu_lab::LabError> {
    let mut opts = LabOptions::default();
    if let Some(base) = std::env::args().nth(1) {
        opts.prefix_base = base;
    }
    let lab = Lab::up(opts)?;
    let mut sleep = Command::new("sleep");
    sleep.arg("600");
    let p = lab.spawn_in(Role::Dpu, sleep)?;
    println!("LAB {} {}", lab.prefix(), p.pid());
    // Bounded: the parent kills us long before this ends.
    std::thread::sleep(Duration::from_secs(60));
    Ok(())
}
