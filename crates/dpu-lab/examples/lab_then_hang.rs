//! Test helper for `killed_owner_is_cleaned_up` (tests/lab.rs): brings a lab up (named with
//! the prefix base given as the first argument), starts a process in it, attaches a loop
//! device over the file given as the second argument and mounts a ramfs on the directory given
//! as the third, prints `LAB <prefix> <pid of the process> <loop device>`, then waits to be
//! killed with SIGKILL, so none of its own teardown runs. Not useful on its own.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use dpu_lab::loopdev::{LoopDevice, Mount};
use dpu_lab::{Lab, LabOptions, Role};

fn main() -> Result<(), dpu_lab::LabError> {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(image), Some(mount_dir)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: lab_then_hang PREFIX_BASE IMAGE_FILE MOUNT_DIR");
        std::process::exit(2);
    };
    let lab = Lab::up(LabOptions { prefix_base: base, ..LabOptions::default() })?;
    let mut sleep = Command::new("sleep");
    sleep.arg("600");
    let p = lab.spawn_in(Role::Dpu, sleep)?;
    let dev = LoopDevice::attach(&PathBuf::from(image), 512)?;
    let _mount = Mount::new("ramfs", "dlkill-test".as_ref(), &PathBuf::from(mount_dir))?;
    println!("LAB {} {} {}", lab.prefix(), p.pid(), dev.path().display());
    // Bounded: the parent kills us long before this ends.
    std::thread::sleep(Duration::from_secs(60));
    Ok(())
}
