//! Prerequisites: checks what the tests and the demo need and installs what is missing, saying so.

use std::process::Command;

use anyhow::{Context, Result, bail};

use dpu_lab::packages::ServiceHold;

use crate::util::{run, stdout_of, succeeds};

/// Debian packages `cargo xtask test` needs: everything the tests use, so that the one
/// `apt-get update` here covers them all (the tests' own installers are only a fallback).
/// Includes every package of [`dpu_lab::guest::TEST_PACKAGES`].
pub const TEST_APT: &[&str] = &[
    "gcc-aarch64-linux-gnu", // linker for aarch64
    "libc6-dev-arm64-cross", // aarch64 sysroot (qemu-user's -L)
    "qemu-user-static",      // runs aarch64 unit tests
    "iproute2",              // the lab (ip netns, veth)
    "iputils-ping",          // lab connectivity checks
    "python3",               // gRPC interop tests
    "g++",                   // libFuzzer's runtime for the fuzz targets
    "tshark",                // dissects built packets in the wire golden tests
    "iperf3",                // TCP transfers through the switch (dpu-switch lab tests)
    "ethtool",               // lab VMs without TSO/GSO, like a VF behind a representor
    "traceroute",            // the routed hop of the switch's SVIs
    "openvswitch-switch",    // Geneve interop peer (userspace datapath)
    "qemu-system-x86",       // the Linux NVMe/TCP initiator guests
    "busybox-static",        // the guests' userland
    "cpio",                  // packs the guests' initramfs
    "nvme-cli",              // the guests' NVMe/TCP initiator
    "e2fsprogs",             // ext4 in the guests, and checks of it on the host
    "fio",                   // the guests' I/O load
    "xz-utils",              // unpacks the guest kernel's modules
    "mount",                 // losetup for the block-device volume tests
    "util-linux",            // fincore (page-cache checks of the block-device tests)
    "coreutils",             // sha256sum of backing files
    "libc-bin",              // ldd: the guest tools' shared libraries
    "apt",                   // apt-get download of the guest kernel
    "dpkg",                  // dpkg-deb unpacks it
];

/// Debian packages the benchmarks' peers need (besides those of the tests).
pub const BENCH_APT: &[&str] = &[
    "iperf3",   // TCP throughput peer (nvmf, switch)
    "fio",      // the file volume's peer (nvmf)
    "iproute2", // the switch bench's lab (ip netns, veth)
    "ethtool",  // its VMs without TSO/GSO/GRO, like a VF behind a representor
];

/// Debian packages `cargo xtask demo` and `cargo xtask lab` need.
pub const LAB_APT: &[&str] = &["iproute2"];

/// Python packages of the gRPC interop tests, and the modules that prove they are there.
pub const PIP: &[&str] = &[
    "grpcio",
    "grpcio-tools",
    "grpcio-health-checking",
    "grpcio-reflection",
    "grpcio-status",
    "protobuf",
];
const PY_CHECK: &str =
    "import grpc, grpc_tools, grpc_health, grpc_reflection, grpc_status, google.protobuf";

pub const AARCH64: &str = "aarch64-unknown-linux-gnu";

/// The rustup components `cargo xtask test` runs (not in rustup's minimal profile).
pub const RUST_COMPONENTS: &[&str] = &["rustfmt", "clippy"];

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The Debian package tools [`ensure_apt`] runs, and where it holds services back.
struct AptTools<'a> {
    dpkg_query: &'a str,
    apt_get: &'a str,
    hold: ServiceHold<'a>,
}

const APT: AptTools<'static> =
    AptTools { dpkg_query: "dpkg-query", apt_get: "apt-get", hold: dpu_lab::packages::SYSTEM };

/// Installs the missing ones of `pkgs` with apt-get (one `apt-get update` first).
pub fn ensure_apt(pkgs: &[&str]) -> Result<()> {
    APT.ensure(pkgs)
}

impl AptTools<'_> {
    fn installed(&self, pkg: &str) -> bool {
        stdout_of(Command::new(self.dpkg_query).args(["-W", "-f=${db:Status-Abbrev}", pkg]))
            .is_some_and(|s| s.starts_with("ii"))
    }

    fn ensure(&self, pkgs: &[&str]) -> Result<()> {
        // Without dpkg every package would read as missing, and the failure would blame
        // root or the package mirrors.
        if !succeeds(Command::new(self.dpkg_query).arg("--version")) {
            bail!(
                "cannot check for the Debian packages {}: `{}` does not run. xtask installs its \
                 prerequisites with apt on Debian or Ubuntu; elsewhere install their \
                 equivalents and run the steps yourself",
                pkgs.join(" "),
                self.dpkg_query
            );
        }
        let missing: Vec<&str> = pkgs.iter().copied().filter(|p| !self.installed(p)).collect();
        if missing.is_empty() {
            println!("    apt packages present: {}", pkgs.join(" "));
            return Ok(());
        }
        println!("    installing missing apt packages: {}", missing.join(" "));
        if !succeeds(Command::new(self.apt_get).arg("--version")) {
            bail!("cannot install {}: `{}` does not run", missing.join(" "), self.apt_get);
        }
        if !is_root() {
            bail!(
                "need root to install {} (run as root, or install them yourself)",
                missing.join(" ")
            );
        }
        // Open vSwitch and the like start no service (dpu_lab::packages::NO_START).
        self.hold.run(&missing, || {
            run(Command::new(self.apt_get).args(["update", "-q"]))
                .context("apt-get update failed (are Debian's package mirrors reachable?)")?;
            run(Command::new(self.apt_get)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q"])
                .arg("--no-install-recommends")
                .args(&missing))
            .with_context(|| format!("installing {}", missing.join(" ")))
        })
    }
}

/// Adds the aarch64 standard library with rustup when it is missing.
pub fn ensure_rust_target(target: &str) -> Result<()> {
    ensure_rustup("rustup", "target", &[target])
}

/// Adds the `wanted` rustup `kind`s (`target` or `component`) that
/// `rustup KIND list --installed` does not list, with one `rustup KIND add`.
fn ensure_rustup(rustup: &str, kind: &str, wanted: &[&str]) -> Result<()> {
    let installed = stdout_of(Command::new(rustup).args([kind, "list", "--installed"]))
        .with_context(|| {
            format!("`{rustup} {kind} list --installed` failed: is rustup installed?")
        })?;
    // Components are listed with their triple (`rustfmt-x86_64-unknown-linux-gnu`).
    let listed = |w: &str| {
        installed.lines().map(str::trim).any(|l| {
            l == w || (kind == "component" && l.strip_prefix(w).is_some_and(|t| t.starts_with('-')))
        })
    };
    let missing: Vec<&str> = wanted.iter().copied().filter(|w| !listed(w)).collect();
    if missing.is_empty() {
        println!("    rust {kind}s present: {}", wanted.join(" "));
        return Ok(());
    }
    println!("    installing missing rust {kind}s: {}", missing.join(" "));
    run(Command::new(rustup).args([kind, "add"]).args(&missing)).with_context(|| {
        format!(
            "rustup could not add {} (they come from the Rust distribution server)",
            missing.join(" ")
        )
    })
}

/// Installs the Python gRPC packages when `python3` cannot import them.
pub fn ensure_pip() -> Result<()> {
    ensure_pip_with("python3", &APT)
}

fn ensure_pip_with(python: &str, apt: &AptTools<'_>) -> Result<()> {
    let imports = || succeeds(Command::new(python).args(["-c", PY_CHECK]));
    if imports() {
        println!("    python packages present: {}", PIP.join(" "));
        return Ok(());
    }
    if !succeeds(Command::new(python).args(["-m", "pip", "--version"])) {
        // Debian's python3 comes without its pip module; the python3-pip package adds it.
        println!("    `{python} -m pip` does not run: installing Debian's python3-pip first");
        apt.ensure(&["python3-pip"])?;
    }
    println!("    installing missing python packages: {}", PIP.join(" "));
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(PIP);
    if run(&mut cmd).is_err() {
        // Debian's own python3 refuses pip installs into the system (PEP 668).
        println!("    retrying with --break-system-packages (externally managed python)");
        run(cmd.arg("--break-system-packages")).context("pip install failed")?;
    }
    if !imports() {
        bail!("{python} still cannot import the gRPC packages after installing {}", PIP.join(" "));
    }
    Ok(())
}

/// What a full `cargo xtask test` writes under a clean `target/`: 8.4 GiB on 2026-12-06.
pub const TEST_DISK_GIB: u64 = 9;

/// Says how much room the file system of `target/` has, and warns when a full run may not
/// fit: a CI run once failed with "No space left on device" in the middle of the tests.
pub fn report_disk() {
    let target = crate::util::target_dir();
    let Some(free) = free_gib(&target) else { return };
    println!(
        "    disk: {free} GiB free for {} (a full run writes about {TEST_DISK_GIB} GiB there)",
        target.display()
    );
    if free < TEST_DISK_GIB {
        println!(
            "    warning: the run may stop with \"No space left on device\": free some space, \
             or point CARGO_TARGET_DIR at a larger file system"
        );
    }
}

/// GiB free to unprivileged writers on the file system `path` is or would be on (on a clean
/// clone `target/` does not exist yet: the nearest directory that does answers).
fn free_gib(path: &std::path::Path) -> Option<u64> {
    let dir = path.ancestors().find(|d| d.is_dir())?;
    let fs = nix::sys::statvfs::statvfs(dir).ok()?;
    Some(fs.blocks_available().saturating_mul(fs.fragment_size()) >> 30)
}

/// Everything `cargo xtask test` needs.
pub fn ensure_for_test() -> Result<()> {
    report_disk();
    ensure_apt(TEST_APT)?;
    ensure_rust_target(AARCH64)?;
    // rustup's minimal profile (CI images) has no rustfmt and clippy, which steps 3 and 4 run.
    ensure_rustup("rustup", "component", RUST_COMPONENTS)?;
    ensure_pip()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An executable shell script `dir/name` that appends its arguments to `dir/name.log`
    /// and then runs `body`; returns its path.
    fn fake(dir: &std::path::Path, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        let log = dir.join(format!("{name}.log"));
        std::fs::write(&path, format!("#!/bin/sh\necho \"$*\" >> {}\n{body}\n", log.display()))
            .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    /// A `target/` not made yet is on the file system of the directory it would be in.
    #[test]
    fn free_space_of_a_missing_directory_is_that_of_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let here = free_gib(dir.path());
        assert!(here.is_some());
        let missing = free_gib(&dir.path().join("target/debug"));
        // Another writer may take or free a GiB between the two looks; no more.
        assert!(here.unwrap().abs_diff(missing.unwrap()) <= 1, "{here:?} vs {missing:?}");
    }

    fn log(dir: &std::path::Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Only what `rustup ... list --installed` lacks is added: components are listed with
    /// their host triple, targets as they are.
    #[test]
    fn rustup_adds_only_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let rustup = fake(
            dir.path(),
            "rustup",
            "case \"$*\" in\n  'component list --installed') printf 'cargo-x86_64-unknown-linux-gnu\\n\
             rustfmt-x86_64-unknown-linux-gnu\\nrust-std-x86_64-unknown-linux-gnu\\n' ;;\n  \
             'target list --installed') printf 'x86_64-unknown-linux-gnu\\n' ;;\nesac",
        );
        ensure_rustup(&rustup, "component", RUST_COMPONENTS).unwrap();
        ensure_rustup(&rustup, "target", &[AARCH64]).unwrap();
        ensure_rustup(&rustup, "target", &["x86_64-unknown-linux-gnu"]).unwrap();
        let adds: Vec<String> = log(dir.path(), "rustup")
            .lines()
            .filter(|l| l.contains(" add"))
            .map(String::from)
            .collect();
        assert_eq!(adds, ["component add clippy", &format!("target add {AARCH64}")]);
        let e = format!(
            "{:#}",
            ensure_rustup("/nonexistent/rustup", "component", RUST_COMPONENTS).unwrap_err()
        );
        assert!(e.contains("is rustup installed?"), "{e}");
    }

    /// `cargo xtask bench switch` brings up a lab (`ip`) and turns the VMs' offloads off
    /// (`ethtool`, dpu-bench's switch lab) besides its iperf3 peer.
    #[test]
    fn bench_apt_has_what_the_switch_lab_runs() {
        for pkg in ["iproute2", "ethtool", "iperf3", "fio"] {
            assert!(BENCH_APT.contains(&pkg), "{pkg} is not in BENCH_APT");
        }
    }

    /// A python3 without pip (Debian's) gets Debian's python3-pip first; `true` stands for
    /// a dpkg that knows no package, and the missing apt-get stops it there.
    #[test]
    fn python_without_pip_gets_debians_python3_pip() {
        let dir = tempfile::tempdir().unwrap();
        let python = fake(dir.path(), "python3", "exit 1");
        let apt = AptTools { dpkg_query: "true", apt_get: "/nonexistent/apt-get", ..APT };
        let e = format!("{:#}", ensure_pip_with(&python, &apt).unwrap_err());
        assert_eq!(e, "cannot install python3-pip: `/nonexistent/apt-get` does not run");
        assert!(!log(dir.path(), "python3").contains("pip install"));
    }

    /// A python3 with pip installs the packages with it and never asks apt.
    #[test]
    fn python_with_pip_installs_without_apt() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let python = fake(
            dir.path(),
            "python3",
            &format!(
                "case \"$*\" in\n  -c*) [ -e {d}/installed ] ;;\n  '-m pip --version') exit 0 ;;\n  \
                 '-m pip install'*) touch {d}/installed ;;\n  *) exit 1 ;;\nesac"
            ),
        );
        let apt = AptTools {
            dpkg_query: "/nonexistent/dpkg-query",
            apt_get: "/nonexistent/apt-get",
            ..APT
        };
        ensure_pip_with(&python, &apt).unwrap();
        let log = log(dir.path(), "python3");
        assert!(
            log.contains(&format!(
                "-m pip install --quiet --disable-pip-version-check {}",
                PIP.join(" ")
            )),
            "{log}"
        );
    }

    /// Without dpkg or apt-get the error names what is missing; it does not ask for root
    /// or blame the mirrors. (No real apt-get is named: a root test run must not install.)
    #[test]
    fn without_dpkg_or_apt_the_error_says_so() {
        let no_apt = "/nonexistent/apt-get";
        let tools = AptTools { dpkg_query: "/nonexistent/dpkg-query", apt_get: no_apt, ..APT };
        let e = format!("{:#}", tools.ensure(&["iproute2", "fio"]).unwrap_err());
        assert!(e.contains("`/nonexistent/dpkg-query` does not run"), "{e}");
        assert!(e.contains("iproute2 fio") && e.contains("Debian"), "{e}");
        // `true` stands for a dpkg that knows no package: every one is missing.
        let tools = AptTools { dpkg_query: "true", apt_get: no_apt, ..APT };
        let e = format!("{:#}", tools.ensure(&["iproute2"]).unwrap_err());
        assert_eq!(e, "cannot install iproute2: `/nonexistent/apt-get` does not run");
    }

    /// One `apt-get update` before the tests covers every package they install: each one the
    /// tests may install mid-run is in TEST_APT (empty package lists would fail them).
    #[test]
    fn test_apt_holds_every_package_the_tests_install() {
        let tests = dpu_lab::guest::TEST_PACKAGES.iter();
        let guest = dpu_lab::guest::HOST_TOOLS.iter().map(|(_, pkg)| pkg);
        let missing: Vec<&&str> = tests.chain(guest).filter(|p| !TEST_APT.contains(p)).collect();
        assert!(missing.is_empty(), "not in TEST_APT: {missing:?}");
    }
}
