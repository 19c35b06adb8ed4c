//! cgroup v2 primitives (Documentation/admin-guide/cgroup-v2.rst): where the hierarchy is
//! mounted, which cgroup a process is in, and a cgroup's own files (`cgroup.procs`,
//! `cgroup.events`, `cgroup.kill`). No policy: which cgroups to make and when to kill them is
//! the caller's (the agent's supervision, `dpud::services`).
#![allow(unsafe_code)] // `pre_exec` in `Cgroup::spawn_into` (see its SAFETY note).

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

/// How many times [`Cgroup::kill`] lists and kills what is in a cgroup, without `cgroup.kill`,
/// before it leaves the rest to the caller's next look: each round catches what forked
/// during the one before.
const KILL_ROUNDS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no cgroup2 file system is mounted (/proc/self/mountinfo)")]
    NotMounted,
    #[error("cgroup {0} is outside the cgroup2 mount")]
    Unreachable(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {what}", path.display())]
    Malformed { path: PathBuf, what: &'static str },
}

impl Error {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_owned(), source }
    }

    /// The kind of the I/O error behind it, if one is (`AlreadyExists` from
    /// [`Cgroup::create_child`], `NotFound` for a cgroup removed meanwhile).
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            Self::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// The cgroup2 hierarchy as mounted here: its mount point and which of its cgroups that
/// mount shows at the mount point (`/` unless a subtree was mounted, as in some containers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub mount_point: PathBuf,
    pub root: String,
}

impl Hierarchy {
    /// The first cgroup2 mount of this process's mount namespace.
    pub fn find() -> Result<Self, Error> {
        let text = read(Path::new("/proc/self/mountinfo"))?;
        Self::parse(&text).ok_or(Error::NotMounted)
    }

    /// The first line of `mountinfo` (proc(5): `ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS
    /// [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`) whose file system type is `cgroup2`.
    pub fn parse(mountinfo: &str) -> Option<Self> {
        mountinfo.lines().find_map(|line| {
            let (mount, fs) = line.split_once(" - ")?;
            if fs.split_whitespace().next()? != "cgroup2" {
                return None;
            }
            let mut fields = mount.split_whitespace();
            let root = unescape(fields.nth(3)?)?;
            let mount_point = unescape(fields.next()?)?;
            (root.starts_with('/') && mount_point.starts_with('/'))
                .then(|| Self { mount_point: PathBuf::from(mount_point), root })
        })
    }

    /// The directory of the cgroup `path` (as `/proc/PID/cgroup` names it), if this mount
    /// shows it.
    pub fn cgroup(&self, path: &str) -> Result<Cgroup, Error> {
        let root = self.root.trim_end_matches('/');
        let below = path
            .strip_prefix(root)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .ok_or_else(|| Error::Unreachable(path.to_owned()))?;
        let below = below.trim_start_matches('/');
        Ok(Cgroup { dir: self.mount_point.join(below) })
    }
}

/// `mountinfo` escapes a space, tab, newline and backslash in a path as `\ooo` (octal).
fn unescape(field: &str) -> Option<String> {
    let mut out = Vec::with_capacity(field.len());
    let mut bytes = field.bytes();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            let digits = [bytes.next()?, bytes.next()?, bytes.next()?];
            let text = std::str::from_utf8(&digits).ok()?;
            out.push(u8::from_str_radix(text, 8).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// The cgroup2 path of process `pid` (this process for `None`), from `/proc/PID/cgroup`.
pub fn path_of(pid: Option<u32>) -> Result<String, Error> {
    let file = match pid {
        Some(pid) => PathBuf::from(format!("/proc/{pid}/cgroup")),
        None => PathBuf::from("/proc/self/cgroup"),
    };
    let text = read(&file)?;
    parse_proc_cgroup(&text)
        .map(str::to_owned)
        .ok_or(Error::Malformed { path: file, what: "no cgroup2 line (0::/path)" })
}

/// The cgroup2 entry of a `/proc/PID/cgroup` (`0::/path`; v1 hierarchies have other ids).
pub fn parse_proc_cgroup(text: &str) -> Option<&str> {
    text.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        (id == "0" && controllers.is_empty() && path.starts_with('/')).then_some(path)
    })
}

/// Whether `cgroup.events` says the cgroup or one below it holds a live process.
pub fn parse_populated(events: &str) -> Option<bool> {
    let value = events.lines().find_map(|l| l.strip_prefix("populated "))?;
    match value.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

/// The pids of `cgroup.procs`, one a line; a line that is no pid is skipped.
pub fn parse_procs(procs: &str) -> Vec<i32> {
    procs.lines().filter_map(|l| l.trim().parse().ok()).filter(|p| *p > 0).collect()
}

/// One cgroup: its directory in the cgroup2 mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The child cgroup `name`, whether or not it exists.
    pub fn child(&self, name: &str) -> Self {
        Self { dir: self.dir.join(name) }
    }

    /// Makes the child cgroup `name`; an existing one is an error (kind `AlreadyExists`).
    pub fn create_child(&self, name: &str) -> Result<Self, Error> {
        let child = self.child(name);
        std::fs::create_dir(&child.dir).map_err(|e| Error::io(&child.dir, e))?;
        Ok(child)
    }

    /// The processes in it (not those of cgroups below it).
    pub fn procs(&self) -> Result<Vec<i32>, Error> {
        Ok(parse_procs(&read(&self.dir.join("cgroup.procs"))?))
    }

    /// Whether a live process is in it or below it (zombies do not count).
    pub fn populated(&self) -> Result<bool, Error> {
        let path = self.dir.join("cgroup.events");
        let text = read(&path)?;
        parse_populated(&text).ok_or(Error::Malformed { path, what: "no populated line" })
    }

    /// SIGKILLs every process in it and below it: through `cgroup.kill` (Linux 5.14+), which
    /// also catches what forks meanwhile; else each pid listed, in rounds until one lists no
    /// new pid ([`KILL_ROUNDS`] at most). Does not wait for them to go.
    pub fn kill(&self) -> Result<(), Error> {
        let path = self.dir.join("cgroup.kill");
        match std::fs::write(&path, "1") {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.dir.is_dir() => {
                self.kill_listed()
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// The fallback of [`kill`](Self::kill) for kernels without `cgroup.kill`.
    fn kill_listed(&self) -> Result<(), Error> {
        let mut killed = Vec::new();
        for _ in 0..KILL_ROUNDS {
            let listed = self.procs()?;
            let new: Vec<i32> = listed.into_iter().filter(|p| !killed.contains(p)).collect();
            if new.is_empty() {
                break;
            }
            for pid in &new {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            killed.extend(new);
        }
        Ok(())
    }

    /// Removes it; only an empty one (no process, no child cgroup) can go.
    pub fn remove(&self) -> Result<(), Error> {
        std::fs::remove_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))
    }

    /// Makes `command` start its process in this cgroup: the child moves itself in between
    /// fork and exec, so nothing it runs or forks is ever outside it. `cgroup.procs` is
    /// opened now (the child only writes to it); a failed move fails the spawn.
    pub fn spawn_into(&self, command: &mut std::process::Command) -> Result<(), Error> {
        let path = self.dir.join("cgroup.procs");
        let procs =
            std::fs::OpenOptions::new().write(true).open(&path).map_err(|e| Error::io(&path, e))?;
        // SAFETY: the closure runs in the forked child before exec, where only
        // async-signal-safe work is allowed: one write(2) of a constant ("0": the writing
        // process, cgroup-v2.rst) to a descriptor opened before the fork; nothing allocates
        // (an OS error becomes an `io::Error` without allocating). The descriptor is
        // close-on-exec, so the service never holds it.
        unsafe {
            command.pre_exec(move || (&procs).write_all(b"0"));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup2_mount_is_found_among_v1_mounts() {
        let hybrid = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw
";
        let h = Hierarchy::parse(hybrid).unwrap();
        assert_eq!(h.mount_point, Path::new("/sys/fs/cgroup/unified"));
        assert_eq!(h.root, "/");
        let unified = "35 24 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(Hierarchy::parse(unified).unwrap().mount_point, Path::new("/sys/fs/cgroup"));
        let escaped = r"35 24 0:30 /a\040b /mnt/c\134g rw - cgroup2 none rw";
        let h = Hierarchy::parse(escaped).unwrap();
        assert_eq!((h.root.as_str(), h.mount_point.as_path()), ("/a b", Path::new(r"/mnt/c\g")));
    }

    #[test]
    fn malformed_mountinfo_finds_nothing() {
        for text in [
            "",
            "\n\n",
            "- cgroup2",
            " - cgroup2 x y",
            "1 2 3 / - cgroup2 x y",
            "1 2 3 / relative rw - cgroup2 x y",
            r"1 2 3 / /bad\04 rw - cgroup2 x y",
            r"1 2 3 / /bad\999 rw - cgroup2 x y",
            r"1 2 3 / /bad\377 rw - cgroup2 x y",
            "1 2 3 / /sys/fs/cgroup rw - cgroup cgroup rw",
            "1 2 3 / /sys/fs/cgroup rw -cgroup2 cgroup2 rw",
            "\u{0}\u{ffff} - \u{1}",
        ] {
            assert_eq!(Hierarchy::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_cgroup_path_maps_below_the_mounted_root() {
        let h = Hierarchy { mount_point: "/sys/fs/cgroup".into(), root: "/".into() };
        assert_eq!(h.cgroup("/").unwrap().dir(), Path::new("/sys/fs/cgroup"));
        assert_eq!(h.cgroup("/a/b").unwrap().dir(), Path::new("/sys/fs/cgroup/a/b"));
        let sub = Hierarchy { mount_point: "/cg".into(), root: "/docker/x".into() };
        assert_eq!(sub.cgroup("/docker/x/s").unwrap().dir(), Path::new("/cg/s"));
        assert_eq!(sub.cgroup("/docker/x").unwrap().dir(), Path::new("/cg"));
        assert!(matches!(sub.cgroup("/docker/xy"), Err(Error::Unreachable(_))));
        assert!(matches!(sub.cgroup("/other"), Err(Error::Unreachable(_))));
    }

    #[test]
    fn the_cgroup2_line_of_proc_pid_cgroup() {
        let hybrid = "9:name=systemd:/\n4:memory:/x\n0::/user.slice/a:b\n";
        assert_eq!(parse_proc_cgroup(hybrid), Some("/user.slice/a:b"));
        assert_eq!(parse_proc_cgroup("0::/\n"), Some("/"));
        for text in ["", "0::", "0::relative", "0:cpu:/x", "1::/x", "0", ":::", "\u{0}::/"] {
            assert_eq!(parse_proc_cgroup(text), None, "{text:?}");
        }
    }

    #[test]
    fn populated_and_procs_files() {
        assert_eq!(parse_populated("populated 1\nfrozen 0\n"), Some(true));
        assert_eq!(parse_populated("frozen 0\npopulated 0\n"), Some(false));
        for text in ["", "populated", "populated 2", "populated x\n", "frozen 1", "populated\t1"] {
            assert_eq!(parse_populated(text), None, "{text:?}");
        }
        assert_eq!(parse_procs("12\n34\n"), [12, 34]);
        assert_eq!(parse_procs("x\n-1\n0\n\n99999999999\n7"), [7]);
    }

    /// The primitives on this machine's hierarchy: a child cgroup under this process's own,
    /// a process spawned into it (and what it forks), killed whole, then the cgroup removed.
    /// A machine without a writable cgroup2 fails here, saying so.
    #[test]
    fn a_process_spawned_into_a_cgroup_is_listed_and_killed_with_it() {
        let hierarchy = Hierarchy::find().expect("no cgroup2 mount on this machine");
        let own = hierarchy.cgroup(&path_of(None).unwrap()).unwrap();
        let name = format!("dpu-runtime-test.{}", std::process::id());
        let cgroup = own.create_child(&name).unwrap_or_else(|e| {
            panic!("cannot make a cgroup here (a cgroup2 hierarchy this test can write): {e}")
        });
        let mut command = std::process::Command::new("sh");
        command.args(["-c", "sleep 60 & exec sleep 60"]);
        cgroup.spawn_into(&mut command).unwrap();
        let mut child = command.spawn().unwrap();
        let mut listed = vec![];
        for _ in 0..200 {
            listed = cgroup.procs().unwrap();
            if listed.len() == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(listed.contains(&i32::try_from(child.id()).unwrap()), "{listed:?}");
        assert_eq!(listed.len(), 2, "the child and what it forked: {listed:?}");
        assert!(cgroup.populated().unwrap());
        assert!(cgroup.remove().is_err(), "a populated cgroup was removed");
        cgroup.kill_listed().unwrap();
        child.wait().unwrap();
        let mut gone = false;
        for _ in 0..200 {
            gone = !cgroup.populated().unwrap();
            if gone {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(gone, "still populated after the kill: {:?}", cgroup.procs());
        cgroup.kill().unwrap();
        cgroup.remove().unwrap();
        assert!(!cgroup.dir().exists());
        assert_eq!(cgroup.populated().unwrap_err().io_kind(), Some(std::io::ErrorKind::NotFound));
    }
}
