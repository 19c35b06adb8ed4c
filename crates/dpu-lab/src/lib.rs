//! The test lab: a virtual BlueField-class card built from network namespaces and veth pairs.
//!
//! ```text
//!  [host ns] 192.168.100.1 --tmfifo_net0 veth-- 192.168.100.2 [dpu ns: agent + services]
//!  [vm1 ns] eth0 --pf0vf0-- [dpu ns]        [vm2 ns] eth0 --pf0vf1-- [dpu ns]
//!  [dpu ns] p0 198.51.100.1 --uplink veth-- 198.51.100.2 eth0 [fabric ns]
//! ```
//!
//! Every lab has a unique prefix `<base><pid>n<counter>` (for example `dl4242n0`), so labs in
//! parallel tests never collide; its namespaces are `<prefix>-host`, `<prefix>-dpu`, `<prefix>-vm1`,
//! `<prefix>-vm2` and `<prefix>-fabric`. Both ends of every veth are created directly inside the
//! lab's namespaces, so nothing ever appears in the root namespace, and deleting the namespaces
//! deletes the links.
//!
//! Teardown is unconditional: [`Lab::down`] or `Drop` (also while a test panics) stops every
//! process the lab started (each runs in its own process group), kills whatever else still runs in
//! the lab's namespaces, and deletes the namespaces. If [`Lab::up`] fails halfway, what it created
//! is removed before the error is returned. Each lab holds an advisory lock on
//! `/run/dpu-lab/<prefix>.lock`; [`cleanup_stale`] removes namespaces of labs whose owner died
//! without tearing down (the kernel drops the lock with the process).
//!
//! A killed test run (SIGKILL, or SIGINT, which the lab's process groups do not get) runs no
//! teardown. Every process the lab starts (also QEMU and the short commands) therefore carries
//! a parent-death signal: the kernel kills it when the test process dies. It is set from a
//! spawner thread that lives as long as the process, since the signal follows the exit of
//! the forking *thread*. What such a process forks itself is killed by the next
//! [`cleanup_stale`] (it runs in a lab namespace); loop devices and mounts: see [`loopdev`].
//!
//! The lab needs root and the `ip` command (iproute2).

mod error;
pub mod guest;
pub mod loopdev;
pub mod packages;
mod proc;
mod process;
pub mod unit;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, TryLockError};
use std::net::Ipv4Addr;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

pub use crate::error::{LabError, Result};
pub use crate::proc::{is_alive, spawn_unless_busy};
pub use crate::process::{LabProcess, SpawnOptions};

/// The default prefix base: lab namespaces are named `dl<pid>n<counter>-<role>`.
pub const DEFAULT_PREFIX_BASE: &str = "dl";

/// The prefix base of the benchmarks' labs (`dlbench<pid>n<counter>-<role>`).
pub const BENCH_PREFIX_BASE: &str = "dlbench";

/// The prefix base of the labs of `cargo xtask lab up`.
pub const XTASK_PREFIX_BASE: &str = "xl";

/// The prefix base of the demo's labs (`cargo xtask demo`).
pub const DEMO_PREFIX_BASE: &str = "dm";

/// The prefix base of the crash test `killed_owner_is_cleaned_up`, whose cleanups must touch
/// no other test's labs.
pub const KILL_TEST_PREFIX_BASE: &str = "dlkill";

/// Every prefix base. [`Lab::up`] refuses any other, so `cargo xtask lab cleanup`, which
/// cleans up each of these, finds every lab a killed run left behind.
pub const PREFIX_BASES: &[&str] = &[
    DEFAULT_PREFIX_BASE,
    BENCH_PREFIX_BASE,
    XTASK_PREFIX_BASE,
    DEMO_PREFIX_BASE,
    KILL_TEST_PREFIX_BASE,
];

/// Where the per-lab lock files live.
pub const LOCK_DIR: &str = "/run/dpu-lab";

/// The tmfifo interface name, in both the host and the dpu namespace.
pub const TMFIFO_IF: &str = "tmfifo_net0";
/// The host end of tmfifo.
pub const HOST_TMFIFO_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 100, 1);
/// The card end of tmfifo.
pub const DPU_TMFIFO_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 100, 2);
/// Prefix length of the tmfifo link.
pub const TMFIFO_PREFIX_LEN: u8 = 30;

/// The uplink representor in the dpu namespace.
pub const UPLINK_IF: &str = "p0";
/// The card's address on the uplink.
pub const DPU_UPLINK_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// The fabric's address on the uplink (its `eth0`).
pub const FABRIC_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
/// Prefix length of the uplink network.
pub const UPLINK_PREFIX_LEN: u8 = 24;

/// The interface name of the VMs' and the fabric's end of their veth.
pub const PEER_IF: &str = "eth0";
/// The representor of VF 0 (peer of `eth0` in vm1).
pub const VF0_REPRESENTOR: &str = "pf0vf0";
/// The representor of VF 1 (peer of `eth0` in vm2).
pub const VF1_REPRESENTOR: &str = "pf0vf1";

/// Timeout of [`Lab::exec_in`].
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(30);

/// One namespace of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The host side of the card (reaches the card over tmfifo).
    Host,
    /// The card's Arm Linux: agent and services run here.
    Dpu,
    /// A VM on the host, behind VF 0 (`pf0vf0` on the card).
    Vm1,
    /// A VM on the host, behind VF 1 (`pf0vf1` on the card).
    Vm2,
    /// The network beyond the uplink `p0`: remote VTEPs, IPsec peers, initiators, clients.
    Fabric,
}

impl Role {
    /// Every role, in creation order.
    pub const ALL: [Role; 5] = [Role::Host, Role::Dpu, Role::Vm1, Role::Vm2, Role::Fabric];

    /// The namespace-name suffix of this role.
    pub fn suffix(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::Dpu => "dpu",
            Role::Vm1 => "vm1",
            Role::Vm2 => "vm2",
            Role::Fabric => "fabric",
        }
    }

    fn from_suffix(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.suffix() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.suffix())
    }
}

/// One end of a veth pair: namespace, interface name, optional address `a.b.c.d/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkEnd {
    /// The namespace of this end.
    pub role: Role,
    /// The interface name inside that namespace.
    pub ifname: &'static str,
    /// Its IPv4 address and prefix length, if it has one.
    pub addr: Option<(Ipv4Addr, u8)>,
}

/// The lab's veth pairs.
pub const LINKS: [(LinkEnd, LinkEnd); 4] = [
    (
        LinkEnd {
            role: Role::Dpu,
            ifname: TMFIFO_IF,
            addr: Some((DPU_TMFIFO_IP, TMFIFO_PREFIX_LEN)),
        },
        LinkEnd {
            role: Role::Host,
            ifname: TMFIFO_IF,
            addr: Some((HOST_TMFIFO_IP, TMFIFO_PREFIX_LEN)),
        },
    ),
    (
        LinkEnd { role: Role::Dpu, ifname: VF0_REPRESENTOR, addr: None },
        LinkEnd { role: Role::Vm1, ifname: PEER_IF, addr: None },
    ),
    (
        LinkEnd { role: Role::Dpu, ifname: VF1_REPRESENTOR, addr: None },
        LinkEnd { role: Role::Vm2, ifname: PEER_IF, addr: None },
    ),
    (
        LinkEnd {
            role: Role::Dpu,
            ifname: UPLINK_IF,
            addr: Some((DPU_UPLINK_IP, UPLINK_PREFIX_LEN)),
        },
        LinkEnd { role: Role::Fabric, ifname: PEER_IF, addr: Some((FABRIC_IP, UPLINK_PREFIX_LEN)) },
    ),
];

/// Options for [`Lab::up`].
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// Namespace names start with this, one of [`PREFIX_BASES`]; default
    /// [`DEFAULT_PREFIX_BASE`].
    pub prefix_base: String,
    /// Test hook: fail `up` after this many setup steps, to exercise the rollback.
    #[doc(hidden)]
    pub fail_after_steps: Option<usize>,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions { prefix_base: DEFAULT_PREFIX_BASE.to_owned(), fail_after_steps: None }
    }
}

fn valid_base(base: &str) -> bool {
    PREFIX_BASES.contains(&base)
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `<pid>n<counter>`: unique among everything this process names (labs, mount records), and
/// among live processes.
fn unique_id() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}n{n}", std::process::id())
}

fn lock_path(prefix: &str) -> PathBuf {
    PathBuf::from(LOCK_DIR).join(format!("{prefix}.lock"))
}

/// How long a new lab waits for the lock of the file it just created. Only a concurrent
/// [`cleanup_stale`] holds it meanwhile, and only briefly (it found no namespace of ours).
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Creates and locks the lock file of a new lab. A concurrent [`cleanup_stale`] may lock the file
/// between our create and our lock (flock conflicts even within one process), so wait for it
/// (bounded). It then unlinks the file, or did so before we locked: then we hold a lock nobody
/// can see, so check that the path still names the file we locked, and retry (bounded) if not.
fn acquire_lock(path: &Path) -> Result<File> {
    let lock_err = |source: std::io::Error| LabError::Lock { path: path.to_owned(), source };
    for _ in 0..5 {
        let file = File::create(path).map_err(lock_err)?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(lock_err(std::io::Error::other("held by another process")));
                }
                Err(TryLockError::Error(e)) => return Err(lock_err(e)),
            }
        }
        let ours = file.metadata().map_err(lock_err)?.ino();
        if fs::metadata(path).is_ok_and(|m| m.ino() == ours) {
            return Ok(file);
        }
    }
    Err(lock_err(std::io::Error::other("lock file keeps disappearing")))
}

/// A running lab. Dropping it tears everything down.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    /// Namespaces created so far, in creation order.
    created: Vec<String>,
    procs: Mutex<Vec<Arc<process::Tracked>>>,
    lock: Option<File>,
    down: bool,
    steps: usize,
    fail_after: Option<usize>,
}

impl Lab {
    /// Builds a new lab: five namespaces, four veth pairs, addresses, links and loopbacks up.
    ///
    /// On error, everything created so far has been removed again.
    pub fn up(opts: LabOptions) -> Result<Lab> {
        if !valid_base(&opts.prefix_base) {
            return Err(LabError::InvalidPrefixBase(opts.prefix_base));
        }
        let euid = nix::unistd::geteuid().as_raw();
        if euid != 0 {
            return Err(LabError::NotRoot { euid });
        }
        Command::new("ip").arg("-V").output().map_err(LabError::IpMissing)?;

        let prefix = format!("{}{}", opts.prefix_base, unique_id());
        fs::create_dir_all(LOCK_DIR)
            .map_err(|e| LabError::io(format!("creating {LOCK_DIR}"), e))?;
        let file = acquire_lock(&lock_path(&prefix))?;

        // From here on, dropping `lab` (also via `?`) removes whatever exists.
        let mut lab = Lab {
            prefix,
            created: Vec::new(),
            procs: Mutex::new(Vec::new()),
            lock: Some(file),
            down: false,
            steps: 0,
            fail_after: opts.fail_after_steps,
        };
        lab.build()?;
        Ok(lab)
    }

    fn step<I, S>(&mut self, args: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        if self.fail_after == Some(self.steps) {
            return Err(LabError::Injected { steps: self.steps, prefix: self.prefix.clone() });
        }
        proc::ip(args)?;
        self.steps += 1;
        Ok(())
    }

    fn build(&mut self) -> Result<()> {
        // We hold the lock, so namespaces under our prefix can only be leftovers of a crashed
        // process that had our pid: remove them first.
        for ns in list_netns()? {
            if ns.strip_prefix(&self.prefix).is_some_and(|rest| rest.starts_with('-')) {
                let problems = remove_netns(&ns);
                if !problems.is_empty() {
                    return Err(LabError::Teardown { prefix: self.prefix.clone(), problems });
                }
            }
        }
        for role in Role::ALL {
            let ns = self.ns_name(role);
            self.step(["netns", "add", &ns])?;
            self.created.push(ns.clone());
            self.step(["-n", &ns, "link", "set", "lo", "up"])?;
        }
        for (a, b) in LINKS {
            let (ns_a, ns_b) = (self.ns_name(a.role), self.ns_name(b.role));
            self.step([
                "-n", &ns_a, "link", "add", a.ifname, "type", "veth", "peer", "name", b.ifname,
                "netns", &ns_b,
            ])?;
            for (end, ns) in [(a, &ns_a), (b, &ns_b)] {
                if let Some((ip, len)) = end.addr {
                    let cidr = format!("{ip}/{len}");
                    self.step(["-n", ns, "addr", "add", &cidr, "dev", end.ifname])?;
                }
                self.step(["-n", ns, "link", "set", "dev", end.ifname, "up"])?;
            }
        }
        Ok(())
    }

    /// The unique prefix of this lab (for example `dl4242n0`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The name of the namespace playing `role`, for `ip netns exec NAME ...`.
    pub fn ns_name(&self, role: Role) -> String {
        format!("{}-{}", self.prefix, role.suffix())
    }

    /// The bind mount of the namespace of `role` (`/run/netns/NAME`), for `setns(2)` or
    /// `nsenter --net=PATH`.
    pub fn ns_path(&self, role: Role) -> PathBuf {
        PathBuf::from("/run/netns").join(self.ns_name(role))
    }

    /// The names of all five namespaces.
    pub fn ns_names(&self) -> Vec<String> {
        Role::ALL.iter().map(|r| self.ns_name(*r)).collect()
    }

    fn netns_exec(&self, role: Role) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec"]).arg(self.ns_name(role));
        cmd
    }

    /// Starts `cmd` inside the namespace of `role`, in a new process group, with stdin from
    /// `/dev/null` and stdout/stderr inherited. Returns once the process is inside the namespace
    /// (or has exited). The program, arguments, environment changes and
    /// working directory of `cmd` are kept; its stdio settings are not (use
    /// [`Lab::spawn_in_with`]).
    pub fn spawn_in(&self, role: Role, cmd: Command) -> Result<LabProcess> {
        self.spawn_in_with(role, cmd, SpawnOptions::default())
    }

    /// Like [`Lab::spawn_in`], with the given standard streams.
    pub fn spawn_in_with(
        &self,
        role: Role,
        cmd: Command,
        stdio: SpawnOptions,
    ) -> Result<LabProcess> {
        let mut wrapped = self.wrap(role, &cmd);
        wrapped.stdin(stdio.stdin).stdout(stdio.stdout).stderr(stdio.stderr).process_group(0);
        let desc = proc::describe(&wrapped);
        let child = proc::spawn_tied(wrapped)
            .map_err(|source| LabError::Spawn { cmd: desc.clone(), source })?;
        let pid = child.id();
        let tracked = process::Tracked::new(child, desc);
        self.procs.lock().unwrap_or_else(|p| p.into_inner()).push(Arc::clone(&tracked));
        // `ip netns exec` enters the namespace and then execs the program; wait (bounded) until
        // it is in, so callers can rely on that once this returns.
        if let Ok(want) = fs::metadata(self.ns_path(role)) {
            proc::poll_until(Duration::from_secs(5), || {
                fs::metadata(format!("/proc/{pid}/ns/net")).map_or(true, |m| m.ino() == want.ino())
                    || proc::has_exited(pid)
            });
        }
        Ok(LabProcess::new(tracked))
    }

    fn wrap(&self, role: Role, cmd: &Command) -> Command {
        let mut wrapped = self.netns_exec(role);
        wrapped.arg(cmd.get_program()).args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }

    /// Runs `args` (program first) inside the namespace of `role` and returns its output, like
    /// [`Command::output`]; a non-zero exit status is not an error. Killed after
    /// [`EXEC_TIMEOUT`], together with anything it left running in its process group.
    pub fn exec_in<I, S>(&self, role: Role, args: I) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.exec_in_timeout(role, args, EXEC_TIMEOUT)
    }

    /// [`Lab::exec_in`] with an explicit timeout.
    pub fn exec_in_timeout<I, S>(&self, role: Role, args: I, timeout: Duration) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.netns_exec(role);
        cmd.args(args);
        proc::output_with_timeout(cmd, timeout)
    }

    /// Like [`Lab::exec_in`], but a non-zero exit status is an error carrying stderr.
    pub fn run_in<I, S>(&self, role: Role, args: I) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.netns_exec(role);
        cmd.args(args);
        proc::run_ok(cmd, EXEC_TIMEOUT)
    }

    /// Pids of every process started with [`Lab::spawn_in`] (running or not).
    pub fn spawned_pids(&self) -> Vec<u32> {
        self.procs.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|t| t.pid()).collect()
    }

    /// Tears the lab down now; reports anything that could not be removed.
    pub fn down(mut self) -> Result<()> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<()> {
        if self.down {
            return Ok(());
        }
        self.down = true;
        let mut problems = Vec::new();
        let procs = std::mem::take(&mut *self.procs.lock().unwrap_or_else(|p| p.into_inner()));
        for tracked in procs {
            problems.extend(tracked.stop(proc::TERM_GRACE));
        }
        // Also whatever namespace exists under our prefix but was not recorded (a failed
        // `ip netns add` may leave a half-made one).
        let mut names = self.created.clone();
        if let Ok(listed) = list_netns() {
            for ns in listed {
                if ns.strip_prefix(&self.prefix).is_some_and(|rest| rest.starts_with('-'))
                    && !names.contains(&ns)
                {
                    names.push(ns);
                }
            }
        }
        for ns in names.iter().rev() {
            problems.extend(remove_netns(ns));
        }
        self.created.clear();
        if let Some(file) = self.lock.take() {
            drop(file);
            if let Err(e) = fs::remove_file(lock_path(&self.prefix))
                && e.kind() != std::io::ErrorKind::NotFound
            {
                problems.push(format!("removing lock file: {e}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LabError::Teardown { prefix: self.prefix.clone(), problems })
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("dpu-lab: {e}");
        }
    }
}

/// Names from `ip netns list` (which prints `NAME` or `NAME (id: N)` per line).
pub fn list_netns() -> Result<Vec<String>> {
    let out = proc::ip(["netns", "list"])?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

/// Live pids inside namespace `ns` (`ip netns pids`).
fn netns_pids(ns: &str) -> Result<Vec<u32>> {
    let out = proc::ip(["netns", "pids", ns])?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .filter(|p| proc::is_alive(*p))
        .collect())
}

/// Kills everything still running in `ns`, then deletes it. Returns problems, if any.
fn remove_netns(ns: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut pids = netns_pids(ns).unwrap_or_default();
    if !pids.is_empty() {
        for pid in &pids {
            let _ = proc::signal_pid(*pid, Signal::SIGKILL);
        }
        proc::poll_until(proc::KILL_WAIT, || {
            pids.retain(|p| proc::is_alive(*p));
            pids.is_empty()
        });
        if !pids.is_empty() {
            problems.push(format!("processes {pids:?} in namespace {ns} survived SIGKILL"));
        }
    }
    if let Err(e) = proc::ip(["netns", "delete", ns]) {
        // Already gone is fine.
        if list_netns().map(|l| l.iter().any(|n| n == ns)).unwrap_or(true) {
            problems.push(format!("deleting namespace {ns}: {e}"));
        }
    }
    problems
}

/// Splits a lab namespace name `<base><pid>n<counter>-<role>` into its prefix and role.
pub fn parse_ns_name<'a>(base: &str, ns: &'a str) -> Option<(&'a str, Role)> {
    let (prefix, suffix) = ns.rsplit_once('-')?;
    let role = Role::from_suffix(suffix)?;
    let rest = prefix.strip_prefix(base)?;
    let (pid, counter) = rest.split_once('n')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(counter)).then_some((prefix, role))
}

/// Whether the owner of a lock file (a lab's, a mount record's) still runs.
enum Owner {
    /// It holds the lock.
    Alive,
    /// It is gone: the file locked by us until the guard drops, or `None` if there is no file.
    Gone(Option<File>),
}

/// Locks `path` if its owner is gone (the kernel drops an owner's lock when it dies), so the
/// caller can remove what the owner left behind. Err: a description of the problem.
fn lock_if_owner_gone(path: &Path) -> std::result::Result<Owner, String> {
    match File::options().read(true).write(true).open(path) {
        Ok(file) => match file.try_lock() {
            Ok(()) => Ok(Owner::Gone(Some(file))),
            Err(TryLockError::WouldBlock) => Ok(Owner::Alive),
            Err(TryLockError::Error(e)) => Err(format!("locking {}: {e}", path.display())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Owner::Gone(None)),
        Err(e) => Err(format!("opening {}: {e}", path.display())),
    }
}

/// What [`cleanup_stale`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CleanupReport {
    /// Namespaces that were removed.
    pub removed: Vec<String>,
    /// Labs left alone because their owner still runs (their lock is held).
    pub live_prefixes: Vec<String>,
    /// Things that could not be removed.
    pub problems: Vec<String>,
}

/// Removes the namespaces (and the processes in them) of labs named with `base` whose owner is
/// gone, for example after a crash or `kill -9` of a test run. Labs whose owner still runs are
/// left alone. Only names that follow the lab's own scheme are touched.
pub fn cleanup_stale(base: &str) -> Result<CleanupReport> {
    if !valid_base(base) {
        return Err(LabError::InvalidPrefixBase(base.to_owned()));
    }
    let mut by_prefix: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ns in list_netns()? {
        if let Some((prefix, _)) = parse_ns_name(base, &ns) {
            by_prefix.entry(prefix.to_owned()).or_default().push(ns);
        }
    }
    // Lock files of dead labs that have no namespace left.
    if let Ok(dir) = fs::read_dir(LOCK_DIR) {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(prefix) = name.strip_suffix(".lock")
                && parse_ns_name(base, &format!("{prefix}-host")).is_some()
            {
                by_prefix.entry(prefix.to_owned()).or_default();
            }
        }
    }
    let mut report = CleanupReport::default();
    for (prefix, namespaces) in by_prefix {
        let path = lock_path(&prefix);
        let guard = match lock_if_owner_gone(&path) {
            Ok(Owner::Alive) => {
                report.live_prefixes.push(prefix);
                continue;
            }
            Ok(Owner::Gone(guard)) => guard,
            Err(problem) => {
                report.problems.push(problem);
                continue;
            }
        };
        for ns in namespaces.iter().rev() {
            let problems = remove_netns(ns);
            if problems.is_empty() {
                report.removed.push(ns.clone());
            }
            report.problems.extend(problems);
        }
        if guard.is_some() {
            let _ = fs::remove_file(&path);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_names_follow_the_scheme() {
        assert_eq!(parse_ns_name("dl", "dl4242n0-host"), Some(("dl4242n0", Role::Host)));
        assert_eq!(parse_ns_name("dl", "dl1n17-fabric"), Some(("dl1n17", Role::Fabric)));
        for other in ["dl4242n0-router", "dlx42n0-dpu", "dl42-dpu", "dl42n-dpu", "xdl1n1-dpu", "dl"]
        {
            assert_eq!(parse_ns_name("dl", other), None, "{other}");
        }
        assert!(valid_base("dl") && valid_base("dlkill") && !valid_base("") && !valid_base("d-l"));
        assert!(!valid_base("lab"), "a base cleanup does not know");
        for base in PREFIX_BASES {
            // The naming scheme: 1 to 8 lowercase letters, then the pid's digits.
            assert!((1..=8).contains(&base.len()), "{base}");
            assert!(base.bytes().all(|b| b.is_ascii_lowercase()), "{base}");
        }
    }

    /// A cleanup that locked a new lab's file between its create and its lock, then unlinks
    /// it: the new lab waits, and ends up holding the lock of a file the path names.
    #[test]
    fn a_new_lab_waits_for_a_cleanup_holding_its_fresh_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dl1n0.lock");
        let cleanup = File::create(&path).unwrap();
        cleanup.try_lock().unwrap();
        let unlink = path.clone();
        let cleaner = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            fs::remove_file(&unlink).unwrap();
            drop(cleanup);
        });
        let ours = acquire_lock(&path).unwrap();
        cleaner.join().unwrap();
        assert_eq!(ours.metadata().unwrap().ino(), fs::metadata(&path).unwrap().ino());
        let other = File::open(&path).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)), "not locked");
    }

    #[test]
    fn topology_uses_documented_ranges_and_short_names() {
        for (a, b) in LINKS {
            for end in [a, b] {
                assert!(end.ifname.len() <= 15, "{} too long", end.ifname);
                if let Some((ip, _)) = end.addr {
                    let o = ip.octets();
                    assert!(
                        matches!(o, [192, 168, 100, 0..=3] | [198, 51, 100, _]),
                        "{ip} outside the documentation/tmfifo ranges"
                    );
                }
            }
        }
    }
}
