//! Applies a desired set of sysctls to files under a root directory and reports what it saw.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use dpu_proto::dpu::system::v1::{ApplyState, Sysctl, SysctlStatus};
use nix::fcntl::OFlag;

use super::{
    MAX_VALUE_LEN, SysctlError, key_from_name, name_for_key, normalize_value, relative_path,
    validate_value,
};

/// Where the kernel exposes sysctls (proc_sys(5)).
pub const DEFAULT_ROOT: &str = "/proc/sys";

/// Reads of a sysctl stop here; real values are at most a page, and a test root must not make
/// the service read a huge file.
const MAX_READ: usize = 64 * 1024;

/// The first read of a value: room for the longest value this service writes and the
/// kernel's newline, without asking the kernel for a 64 KiB buffer on every read.
const FIRST_READ: usize = 2 * MAX_VALUE_LEN;

/// Keeps the sysctls of the last desired set applied under `root`.
///
/// Removing an object from the desired set only makes the applier forget it: the kernel value
/// is left as it is, like sysctl.d(5), which never restores a previous value either. To bring a
/// key back, put it in the desired set with the value wanted.
///
/// An object is APPLIED only when the kernel reads back the desired value (whitespace-normalised),
/// so `observed_value == spec.value` holds for every APPLIED object. A kernel that accepts a write
/// but reads back something else (e.g. `kernel.printk` given one field of four, `vm.nr_hugepages`
/// more pages than it found) yields FAILED, and its value is left as it is.
#[derive(Debug)]
pub struct Applier {
    root: PathBuf,
    applied: Vec<Applied>,
    writes: u64,
}

/// An object of the last sync and what [`Applier::keep`] does with it.
#[derive(Debug, Clone)]
struct Applied {
    object: Sysctl,
    watch: Watch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Watch {
    /// APPLIED: read back, and set again when it drifted.
    Value,
    /// FAILED for want of its file (a VF's parameter before the VF): tried again.
    File,
    /// FAILED otherwise (refused, unreadable, write-only): left until the next sync, so a
    /// refused value is not written and undone, nor an action key like `vm.drop_caches`
    /// fired, on every pass.
    Nothing,
    /// FAILED because setting these keys changed it back: left alone, and not
    /// written by a sync either while it and they keep their values (see
    /// [`Applier::standing_fights`]).
    Fought(Vec<String>),
}

impl Watch {
    fn after(result: &Result<String, SysctlError>) -> Self {
        match result {
            Ok(_) => Watch::Value,
            Err(SysctlError::NotFound { .. }) => Watch::File,
            Err(SysctlError::ChangedBack { by, .. }) if !by.is_empty() => Watch::Fought(by.clone()),
            Err(_) => Watch::Nothing,
        }
    }

    /// Whether [`Applier::keep`] looks at the object.
    fn kept(&self) -> bool {
        matches!(self, Watch::Value | Watch::File)
    }
}

/// What one [`Applier::keep`] pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    /// Values written again (drifted, or whose file appeared).
    pub written: u64,
    /// Objects whose status changed (APPLIED <-> FAILED, or another message).
    pub status_changed: usize,
}

/// Rounds of [`Applier::settle`] after a pass: a fight takes two (the first sets the value
/// that was changed, the second finds its rival changing it back) and each side effect of
/// its outcome one more; keys that keep changing each other beyond that are FAILED.
const SETTLE_ROUNDS: usize = 8;

impl Default for Applier {
    fn default() -> Self {
        Self::new(DEFAULT_ROOT)
    }
}

impl Applier {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into(), applied: Vec::new(), writes: 0 }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How many values were written since start; reads that already matched are not counted.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Makes the applied set exactly `desired` and returns each object with its `status` filled,
    /// in the order given. A value is written only when the current one differs, so syncing the
    /// same set again touches nothing unless the file drifted. Never fails as a whole: every
    /// problem becomes a FAILED status on its object. A value a later one changed is set again
    /// (see [`Applier::settle`]); one that lost to another key of one kernel value is not
    /// written again while neither changes ([`Applier::standing_fights`]).
    pub fn sync(&mut self, desired: Vec<Sysctl>) -> Vec<Sysctl> {
        let standing = self.standing_fights(&desired);
        let mut seen = HashSet::new();
        let mut results = Vec::with_capacity(desired.len());
        let writes = self.writes;
        for object in desired {
            let first = seen.insert(object.name.clone());
            let result = if !first {
                Err(SysctlError::Duplicate { name: object.name.clone() })
            } else if let Some(by) = standing.get(&object.name) {
                self.still_fought(&object, by)
            } else {
                self.apply_one(&object)
            };
            results.push((object, first, result));
        }
        let mut view: Vec<_> = results.iter_mut().map(|(o, _, result)| (&*o, result)).collect();
        if self.writes > writes {
            self.settle(&mut view);
        }
        let mut out = Vec::with_capacity(results.len());
        let mut kept = Vec::with_capacity(results.len());
        for (mut object, first, result) in results {
            let watch = Watch::after(&result);
            object.status = Some(self.status_for(&object, result));
            if first {
                kept.push(Applied { object: object.clone(), watch });
            }
            out.push(object);
        }
        self.applied = kept;
        out
    }

    /// The objects of `desired` that lost a fight in the last sync or pass and would lose it
    /// again, with the keys they lost to: the same value as then, and each winner still in
    /// the set with the value it had. Writing them would only flip the kernel value back and
    /// forth (and reset what it drags along: `net.ipv4.conf.all.forwarding` resets every
    /// interface's forwarding and `accept_redirects`) on every sync. A change of any of
    /// these values ends the standoff: the next sync tries again.
    fn standing_fights(&self, desired: &[Sysctl]) -> HashMap<String, Vec<String>> {
        let fought: Vec<(&Applied, &Vec<String>)> = self
            .applied
            .iter()
            .filter_map(|a| match &a.watch {
                Watch::Fought(by) => Some((a, by)),
                _ => None,
            })
            .collect();
        if fought.is_empty() {
            return HashMap::new();
        }
        let value = |o: &Sysctl| o.spec.as_ref().map(|spec| spec.value.clone());
        let before: HashMap<&str, _> =
            self.applied.iter().map(|a| (a.object.name.as_str(), value(&a.object))).collect();
        let mut now = HashMap::with_capacity(desired.len());
        for object in desired {
            // A later duplicate is not applied.
            now.entry(object.name.as_str()).or_insert_with(|| value(object));
        }
        let unchanged = |name: &str| before.get(name).is_some_and(|v| now.get(name) == Some(v));
        fought
            .into_iter()
            .filter(|(a, by)| {
                unchanged(&a.object.name) && by.iter().all(|key| unchanged(&name_for_key(key)))
            })
            .map(|(a, by)| (a.object.name.clone(), by.clone()))
            .collect()
    }

    /// An object that lost to `by` in a standing fight, read but not written: APPLIED if
    /// the kernel holds its value after all.
    fn still_fought(&self, object: &Sysctl, by: &[String]) -> Result<String, SysctlError> {
        let value = object.spec.as_ref().map(|spec| spec.value.as_str());
        let desired = normalize_value(
            value.ok_or_else(|| SysctlError::MissingSpec { name: object.name.clone() })?,
        );
        let observed = self.reads(object)?;
        if observed == desired {
            return Ok(observed);
        }
        let key = key_from_name(&object.name)?.to_owned();
        Err(SysctlError::ChangedBack { key, desired, observed, by: by.to_vec() })
    }

    /// After a pass that wrote something, objects that no longer hold their value were
    /// changed by a write of the pass: as a side effect (switching
    /// `net.ipv4.conf.all.forwarding` on turns `net.ipv4.conf.all.accept_redirects` off) or
    /// because two keys are one kernel value (`net.ipv4.ip_forward` is
    /// `net.ipv4.conf.all.forwarding`). They are set again, round by round in set order,
    /// until all hold. Each one set again that holds takes precedence over those set after
    /// it: when setting an object changes one of those, that one is set back, and if the
    /// object then no longer holds the two fight, and the object is FAILED, changed back by
    /// it. Only that test tells a fight from a side effect (setting `accept_redirects` again
    /// leaves forwarding alone), so a key changed by the winner's value is set again like
    /// any other, not taken for a loser. A loser is neither reported APPLIED over a value the
    /// kernel does not hold nor set again by every [`Applier::keep`] pass.
    fn settle(&mut self, results: &mut [(&Sysctl, &mut Result<String, SysctlError>)]) {
        // Objects set again here that held, in that order.
        let mut settled: Vec<usize> = Vec::new();
        for _ in 0..SETTLE_ROUNDS {
            let changed: Vec<usize> =
                (0..results.len()).filter(|&i| !self.holds(&results[i])).collect();
            if changed.is_empty() {
                return;
            }
            for index in changed {
                let writes = self.writes;
                *results[index].1 = self.apply_one(results[index].0);
                if self.writes == writes {
                    // Held again, or FAILED for its own reason.
                    continue;
                }
                tracing::info!(name = %results[index].0.name, "sysctl set once more: another of the set changed it");
                let hit: Vec<usize> = settled
                    .iter()
                    .copied()
                    .filter(|&w| w != index && !self.holds(&results[w]))
                    .collect();
                for &w in &hit {
                    *results[w].1 = self.apply_one(results[w].0);
                }
                let lost = if hit.is_empty() { None } else { self.lost(&results[index]) };
                if let Some(desired) = lost {
                    let by = hit.iter().map(|&w| key_of(results[w].0)).collect();
                    *results[index].1 = self.changed_back(results[index].0, desired, by);
                } else if !settled.contains(&index) {
                    settled.push(index);
                }
            }
        }
        // Still changing each other, by whichever writes: FAILED, and tried again by the
        // next sync (no standing fight without a known winner).
        for entry in results.iter_mut() {
            let Some(desired) = self.lost(entry) else { continue };
            *entry.1 = self.changed_back(entry.0, desired, Vec::new());
        }
    }

    /// Whether an object still holds the value it was APPLIED with in this pass (a FAILED
    /// one has nothing to hold).
    fn holds(&self, object: &(&Sysctl, &mut Result<String, SysctlError>)) -> bool {
        self.lost(object).is_none()
    }

    /// The value an object APPLIED in this pass no longer holds (or cannot be read back).
    fn lost(
        &self,
        (object, result): &(&Sysctl, &mut Result<String, SysctlError>),
    ) -> Option<String> {
        let desired = result.as_ref().ok()?;
        (self.reads(object).ok().as_ref() != Some(desired)).then(|| desired.clone())
    }

    /// The status of an object APPLIED as `desired` in this pass once `by` (keys) changed its
    /// value.
    fn changed_back(
        &self,
        object: &Sysctl,
        desired: String,
        by: Vec<String>,
    ) -> Result<String, SysctlError> {
        match self.reads(object)? {
            observed if observed == desired => Ok(observed),
            observed => {
                Err(SysctlError::ChangedBack { key: key_of(object), desired, observed, by })
            }
        }
    }

    /// The current, normalised value of an object's key.
    fn reads(&self, object: &Sysctl) -> Result<String, SysctlError> {
        self.read_current(key_from_name(&object.name)?)
    }

    /// The objects of the last sync with their current status.
    pub fn list_applied(&self) -> Vec<Sysctl> {
        self.applied.iter().map(|a| a.object.clone()).collect()
    }

    /// Keeps the last desired set in force between syncs, as the agent's API promises: a value
    /// changed behind the service's back is set again, a parameter whose file appeared since
    /// is set, and one whose file vanished becomes FAILED. Objects FAILED for another reason
    /// are left alone (see [`Watch::Nothing`], [`Watch::Fought`]). Nothing is written for a
    /// value that holds.
    pub fn keep(&mut self) -> Kept {
        let mut kept = Kept::default();
        let writes_before = self.writes;
        let mut applied = std::mem::take(&mut self.applied);
        let mut results = Vec::with_capacity(applied.len());
        for entry in applied.iter_mut().filter(|a| a.watch.kept()) {
            let writes = self.writes;
            let result = self.apply_one(&entry.object);
            if self.writes > writes {
                let observed = result.as_deref().unwrap_or_default();
                tracing::info!(name = %entry.object.name, value = observed, "sysctl set again");
            }
            results.push((entry, result));
        }
        let mut view: Vec<_> = results.iter_mut().map(|(e, result)| (&e.object, result)).collect();
        if self.writes > writes_before {
            self.settle(&mut view);
        }
        for (entry, result) in results {
            entry.watch = Watch::after(&result);
            let status = self.status_for(&entry.object, result);
            if entry.object.status.as_ref() != Some(&status) {
                kept.status_changed += 1;
                entry.object.status = Some(status);
            }
        }
        kept.written = self.writes - writes_before;
        self.applied = applied;
        kept
    }

    fn status_for(&self, object: &Sysctl, result: Result<String, SysctlError>) -> SysctlStatus {
        let (state, observed_value, message) = match result {
            Ok(observed) => (ApplyState::Applied, observed, String::new()),
            Err(err) => {
                // Show what the kernel holds now, when it can be read, to help the operator.
                let observed = key_from_name(&object.name)
                    .ok()
                    .and_then(|key| self.read_current(key).ok())
                    .unwrap_or_default();
                (ApplyState::Failed, observed, err.to_string())
            }
        };
        SysctlStatus {
            state: state.into(),
            observed_value,
            applied_generation: object.generation,
            message,
        }
    }

    /// Returns the observed, normalised value.
    fn apply_one(&mut self, object: &Sysctl) -> Result<String, SysctlError> {
        let key = key_from_name(&object.name)?;
        let value = object
            .spec
            .as_ref()
            .map(|spec| spec.value.as_str())
            .ok_or_else(|| SysctlError::MissingSpec { name: object.name.clone() })?;
        validate_value(value)?;
        let path = self.resolve(key)?;
        let desired = normalize_value(value);

        let before = match read_value(&path, key) {
            Ok(current) if normalize_value(&current) == desired => return Ok(desired),
            Err(
                err @ (SysctlError::NotFound { .. }
                | SysctlError::NotAFile { .. }
                | SysctlError::OutsideRoot { .. }),
            ) => return Err(err),
            // Differs, or unreadable (write-only sysctls): write it.
            Ok(current) => Some(current),
            Err(_) => None,
        };

        // The kernel may take part of a value it refuses (a multi-field value whose later
        // field is out of range, stored field by field): a refused or cut-short write is
        // undone, so that it changes nothing (best effort, as the value before was read).
        let undo = |err: SysctlError| {
            if let Some(before) = &before
                && let Err(e) = write_value(&path, key, before.trim())
            {
                tracing::warn!(key, error = %e, "a refused value could not be undone");
            }
            err
        };
        write_value(&path, key, value).map_err(undo)?;
        self.writes += 1;

        // A whole value taken that reads back otherwise is the kernel's answer: it set what it
        // could (`vm.nr_hugepages` the pages it found, a millisecond value rounded to
        // jiffies, `kernel.printk` the one field given of four). sysctl(8) and
        // systemd-sysctl leave it; undoing it would free what was found, on every sync.
        let observed = normalize_value(&read_value(&path, key)?);
        if observed != desired {
            return Err(SysctlError::Mismatch { key: key.to_owned(), desired, observed });
        }
        Ok(observed)
    }

    fn read_current(&self, key: &str) -> Result<String, SysctlError> {
        let path = self.resolve(key)?;
        read_value(&path, key).map(|v| normalize_value(&v))
    }

    /// The file for `key` under the root. The key syntax already rules out `..` and `/`; the
    /// canonical-path check also refuses a directory symlinked out of the root (possible in a
    /// test root, not in procfs), and the leaf is opened with O_NOFOLLOW.
    fn resolve(&self, key: &str) -> Result<PathBuf, SysctlError> {
        let path = self.root.join(relative_path(key)?);
        let not_found = || SysctlError::NotFound { key: key.to_owned() };
        let parent = path.parent().ok_or_else(not_found)?;
        let root = self.root.canonicalize().map_err(|_| not_found())?;
        let parent = parent.canonicalize().map_err(|_| not_found())?;
        if !parent.starts_with(&root) {
            return Err(SysctlError::OutsideRoot { key: key.to_owned() });
        }
        Ok(path)
    }
}

/// The key an object names, for messages (empty when the name is invalid, which fails
/// before anything is written).
fn key_of(object: &Sysctl) -> String {
    key_from_name(&object.name).unwrap_or_default().to_owned()
}

fn open_flags() -> i32 {
    OFlag::O_NOFOLLOW.bits()
}

/// The whole value comes from one read(2) at offset 0: the kernel prints an integer vector or
/// a bitmap (`net.ipv4.tcp_rmem`, `net.ipv4.ip_local_reserved_ports`) only for a read at
/// offset 0, cut to that read's length, and returns nothing at a later offset (`read_to_end`
/// into an empty buffer starts with a 32-byte read, which cut longer values). A value that
/// fills the first read is read again from offset 0 with room for [`MAX_READ`] bytes.
fn read_value(path: &Path, key: &str) -> Result<String, SysctlError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(open_flags())
        .open(path)
        .map_err(|err| classify(err, key, None))?;
    let mut size = FIRST_READ;
    loop {
        let mut buf = vec![0; size];
        let len = read_from_start(&file, &mut buf).map_err(|err| classify(err, key, None))?;
        if len < size || size >= MAX_READ {
            buf.truncate(len);
            return Ok(String::from_utf8_lossy(&buf).into_owned());
        }
        size = MAX_READ;
    }
}

/// Fills `buf` from offset 0 of `file` until end of file or `buf` is full. procfs answers
/// everything in the first read(2); further ones only matter for ordinary files.
fn read_from_start(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(len)
}

/// One write(2) at offset 0: procfs parses each write on its own, so the value must not be split.
/// No trailing newline; the kernel's integer and string handlers both stop at the end of the
/// buffer. An empty value is written as a lone newline, as systemd-sysctl writes `key =`: a
/// write of nothing sets nothing, while the kernel reads a newline as the end of an empty
/// value (a string, a bitmap such as `net.ipv4.ip_local_reserved_ports`).
/// O_TRUNC is harmless on procfs and needed for ordinary files under a test root.
fn write_value(path: &Path, key: &str, value: &str) -> Result<(), SysctlError> {
    let bytes = if value.is_empty() { "\n" } else { value }.as_bytes();
    let mut file: File = OpenOptions::new()
        .write(true)
        .truncate(true)
        .custom_flags(open_flags())
        .open(path)
        .map_err(|err| classify(err, key, Some(value)))?;
    let written = file.write(bytes).map_err(|err| classify_write(err, path, key, value))?;
    if written != bytes.len() {
        return Err(SysctlError::ShortWrite { key: key.to_owned(), written, len: bytes.len() });
    }
    Ok(())
}

/// Maps an error of the write(2) of `value` to the open file `path`. The kernel answers
/// ENOENT for a value naming something it does not have (`net.ipv4.tcp_congestion_control =
/// bbr2` without that module, an unknown `net.core.default_qdisc`): a refused value, which a
/// pass between syncs would only write again, loading modules each time. ENOENT also comes
/// from a table unregistered since the open (an interface removed): the file is gone then,
/// and that stays "no such sysctl", whose file is watched for.
fn classify_write(err: io::Error, path: &Path, key: &str, value: &str) -> SysctlError {
    if err.kind() == io::ErrorKind::NotFound && path.symlink_metadata().is_ok() {
        return SysctlError::Rejected { key: key.to_owned(), value: value.to_owned(), source: err };
    }
    classify(err, key, Some(value))
}

/// Maps an error of opening or reading a sysctl's file to what it means for the sysctl.
/// `value` is set when it was opened to write it (for write(2) itself see [`classify_write`]).
fn classify(err: io::Error, key: &str, value: Option<&str>) -> SysctlError {
    let key = key.to_owned();
    match err.kind() {
        // ENOTDIR: the key goes on below a sysctl (`net.ipv4.tcp_rmem.max`).
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => SysctlError::NotFound { key },
        io::ErrorKind::IsADirectory => SysctlError::NotAFile { key },
        _ if err.raw_os_error() == Some(nix::libc::ELOOP) => SysctlError::OutsideRoot { key },
        io::ErrorKind::PermissionDenied if value.is_some() => {
            SysctlError::PermissionDenied { key, source: err }
        }
        _ => match value {
            Some(value) => SysctlError::Rejected { key, value: value.to_owned(), source: err },
            None => SysctlError::Read { key, source: err },
        },
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use dpu_proto::dpu::system::v1::SysctlSpec;

    use super::*;

    fn object(key: &str, value: &str, generation: i64) -> Sysctl {
        Sysctl {
            name: format!("sysctls/{key}"),
            spec: Some(SysctlSpec { value: value.to_owned() }),
            generation,
            ..Default::default()
        }
    }

    /// A temp dir shaped like a small /proc/sys, values ending in a newline like the kernel's.
    fn fake_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("net/ipv4/conf/all")).unwrap();
        fs::create_dir_all(dir.path().join("vm")).unwrap();
        fs::write(dir.path().join("net/ipv4/ip_forward"), "0\n").unwrap();
        fs::write(dir.path().join("net/ipv4/tcp_rmem"), "4096\t131072\t6291456\n").unwrap();
        fs::write(dir.path().join("net/ipv4/conf/all/rp_filter"), "2\n").unwrap();
        fs::write(dir.path().join("vm/swappiness"), "60\n").unwrap();
        dir
    }

    fn state(object: &Sysctl) -> ApplyState {
        let status = object.status.as_ref().unwrap();
        ApplyState::try_from(status.state).unwrap()
    }

    fn message(object: &Sysctl) -> &str {
        &object.status.as_ref().unwrap().message
    }

    #[test]
    fn applies_and_reports() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        let out = applier
            .sync(vec![object("net.ipv4.ip_forward", "1", 3), object("vm.swappiness", "10", 1)]);
        assert_eq!(out.len(), 2);
        for o in &out {
            assert_eq!(state(o), ApplyState::Applied, "{}", message(o));
        }
        let status = out[0].status.as_ref().unwrap();
        assert_eq!(status.observed_value, "1");
        assert_eq!(status.applied_generation, 3);
        assert!(status.message.is_empty());
        assert_eq!(fs::read_to_string(root.path().join("net/ipv4/ip_forward")).unwrap(), "1");
        assert_eq!(fs::read_to_string(root.path().join("vm/swappiness")).unwrap(), "10");
        assert_eq!(applier.writes(), 2);
        assert_eq!(applier.list_applied(), out);
    }

    #[test]
    fn reapply_is_idempotent() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        let desired = vec![object("net.ipv4.ip_forward", "1", 1)];
        let first = applier.sync(desired.clone());
        assert_eq!(applier.writes(), 1);
        let mtime =
            fs::metadata(root.path().join("net/ipv4/ip_forward")).unwrap().modified().unwrap();
        let second = applier.sync(desired);
        assert_eq!(applier.writes(), 1, "no write when the value already matches");
        let mtime2 =
            fs::metadata(root.path().join("net/ipv4/ip_forward")).unwrap().modified().unwrap();
        assert_eq!(mtime, mtime2);
        assert_eq!(first, second);
    }

    /// A key that goes on below a sysctl (`net.ipv4.tcp_rmem.max`, a typo) names nothing: the
    /// open fails with ENOTDIR, which is "no such sysctl", not a value the kernel refused.
    #[test]
    fn a_key_below_a_sysctl_is_not_found() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        let out = applier.sync(vec![object("net.ipv4.tcp_rmem.max", "6291456", 1)]);
        assert_eq!(state(&out[0]), ApplyState::Failed);
        assert_eq!(message(&out[0]), "no such sysctl: net.ipv4.tcp_rmem.max");
        assert_eq!(out[0].status.as_ref().unwrap().observed_value, "");
        let rmem = fs::read_to_string(root.path().join("net/ipv4/tcp_rmem")).unwrap();
        assert_eq!(rmem, "4096\t131072\t6291456\n");
    }

    /// A VLAN device's parameters, spelled as in sysctl.d(5) (a '/' for the '.' of the
    /// device's name), are set in its directory; spelled with dots they name nothing.
    #[test]
    fn a_dotted_interface_name_is_spelled_with_a_slash() {
        let root = fake_root();
        let dir = root.path().join("net/ipv4/conf/eth0.100");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("forwarding"), "0\n").unwrap();
        let mut applier = Applier::new(root.path());
        let out = applier.sync(vec![
            object("net.ipv4.conf.eth0/100.forwarding", "1", 1),
            object("net.ipv4.conf.eth0.100.forwarding", "1", 1),
        ]);
        assert_eq!(state(&out[0]), ApplyState::Applied, "{}", message(&out[0]));
        assert_eq!(out[0].name, "sysctls/net.ipv4.conf.eth0/100.forwarding");
        assert_eq!(fs::read_to_string(dir.join("forwarding")).unwrap(), "1");
        assert_eq!(message(&out[1]), "no such sysctl: net.ipv4.conf.eth0.100.forwarding");
    }

    /// An empty value clears a list (`net.ipv4.ip_local_reserved_ports`), as `key =` in
    /// sysctl.d(5) does: written as a newline, since a write of nothing sets nothing.
    #[test]
    fn an_empty_value_clears_a_list() {
        let root = fake_root();
        let file = root.path().join("net/ipv4/ip_local_reserved_ports");
        fs::write(&file, "4420,50051-50052\n").unwrap();
        let mut applier = Applier::new(root.path());
        let desired = vec![object("net.ipv4.ip_local_reserved_ports", "", 1)];
        let out = applier.sync(desired.clone());
        assert_eq!(state(&out[0]), ApplyState::Applied, "{}", message(&out[0]));
        assert_eq!(out[0].status.as_ref().unwrap().observed_value, "");
        assert_eq!(fs::read_to_string(&file).unwrap(), "\n");
        assert_eq!(applier.sync(desired), out);
        assert_eq!(applier.writes(), 1, "an empty list is not cleared again");
    }

    #[test]
    fn tabs_in_kernel_value_match_spaces_in_spec() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        let out = applier.sync(vec![object("net.ipv4.tcp_rmem", "4096 131072  6291456", 1)]);
        assert_eq!(state(&out[0]), ApplyState::Applied);
        assert_eq!(out[0].status.as_ref().unwrap().observed_value, "4096 131072 6291456");
        assert_eq!(applier.writes(), 0);
    }

    #[test]
    fn missing_key_fails_with_message() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        let out = applier.sync(vec![
            object("net.ipv4.nope", "1", 1),
            object("nothere.at.all", "1", 1),
            object("net.ipv4.ip_forward", "1", 1),
        ]);
        assert_eq!(state(&out[0]), ApplyState::Failed);
        assert_eq!(message(&out[0]), "no such sysctl: net.ipv4.nope");
        assert_eq!(message(&out[1]), "no such sysctl: nothere.at.all");
        assert!(!root.path().join("net/ipv4/nope").exists(), "must never create files");
        // One bad object does not stop the others.
        assert_eq!(state(&out[2]), ApplyState::Applied);
        // Failed objects are still held and listed.
        assert_eq!(applier.list_applied().len(), 3);
    }

    #[test]
    fn directory_is_not_a_sysctl() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        let out = applier.sync(vec![object("net.ipv4", "1", 1)]);
        assert_eq!(state(&out[0]), ApplyState::Failed);
        assert!(message(&out[0]).contains("not a sysctl"), "{}", message(&out[0]));
    }

    #[test]
    fn invalid_input_is_rejected_without_writing() {
        let root = fake_root();
        let outside = root.path().join("outside");
        fs::write(&outside, "x").unwrap();
        let mut applier = Applier::new(root.path().join("net"));
        let mut no_spec = object("ipv4.ip_forward", "1", 1);
        no_spec.spec = None;
        let inputs = vec![
            Sysctl { name: "sysctls/../outside".into(), ..object("x", "1", 1) },
            Sysctl { name: "sysctls/ipv4/../../outside".into(), ..object("x", "1", 1) },
            Sysctl { name: "net.ipv4.ip_forward".into(), ..object("x", "1", 1) },
            object("ipv4.ip_forward", "1\n0", 1),
            object("ipv4.ip_forward", " ", 1),
            no_spec,
        ];
        // One sync per object: the same name twice in one set would be a duplicate.
        let out: Vec<Sysctl> = inputs.into_iter().flat_map(|o| applier.sync(vec![o])).collect();
        for o in &out {
            assert_eq!(state(o), ApplyState::Failed, "{}", o.name);
            assert!(!message(o).is_empty());
        }
        assert!(message(&out[0]).contains("invalid sysctl key"), "{}", message(&out[0]));
        assert!(message(&out[2]).contains("invalid sysctl name"), "{}", message(&out[2]));
        assert!(message(&out[3]).contains("line break"), "{}", message(&out[3]));
        assert!(message(&out[5]).contains("no spec"), "{}", message(&out[5]));
        assert_eq!(fs::read_to_string(&outside).unwrap(), "x");
        assert_eq!(fs::read_to_string(root.path().join("net/ipv4/ip_forward")).unwrap(), "0\n");
        assert_eq!(applier.writes(), 0);
    }

    #[test]
    fn symlinks_out_of_root_are_refused() {
        let root = fake_root();
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(elsewhere.path().join("victim"), "0").unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root.path().join("escape")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("victim"), root.path().join("vm/link"))
            .unwrap();
        let mut applier = Applier::new(root.path());
        let out = applier.sync(vec![object("escape.victim", "1", 1), object("vm.link", "1", 1)]);
        for o in &out {
            assert_eq!(state(o), ApplyState::Failed);
            assert!(message(o).contains("outside the sysctl root"), "{}", message(o));
        }
        assert_eq!(fs::read_to_string(elsewhere.path().join("victim")).unwrap(), "0");
    }

    #[test]
    fn drift_is_corrected_by_next_sync() {
        let root = fake_root();
        let file = root.path().join("net/ipv4/ip_forward");
        let mut applier = Applier::new(root.path());
        let desired = vec![object("net.ipv4.ip_forward", "1", 1)];
        applier.sync(desired.clone());
        fs::write(&file, "0\n").unwrap();
        let out = applier.sync(desired);
        assert_eq!(state(&out[0]), ApplyState::Applied);
        assert_eq!(fs::read_to_string(&file).unwrap(), "1");
        assert_eq!(applier.writes(), 2);
    }

    /// A value longer than the first read is read again whole (procfs prints a value in the
    /// first read only; the real kernel is tested in tests/binary.rs).
    #[test]
    fn values_longer_than_the_first_read_are_read_whole() {
        let root = fake_root();
        let file = root.path().join("vm/swappiness");
        let long = vec!["1"; FIRST_READ].join(" ");
        fs::write(&file, format!("{long}\n")).unwrap();
        assert_eq!(read_value(&file, "vm.swappiness").unwrap().trim_end(), long);
        fs::write(&file, "2".repeat(MAX_READ + 10)).unwrap();
        assert_eq!(read_value(&file, "vm.swappiness").unwrap().len(), MAX_READ);
    }

    #[test]
    fn keep_sets_drifted_values_again_and_touches_nothing_else() {
        let root = fake_root();
        let file = root.path().join("net/ipv4/ip_forward");
        let mut applier = Applier::new(root.path());
        let out = applier
            .sync(vec![object("net.ipv4.ip_forward", "1", 1), object("vm.swappiness", "10", 1)]);
        assert_eq!(applier.writes(), 2);
        assert_eq!(applier.keep(), Kept::default(), "nothing drifted");
        assert_eq!(applier.writes(), 2);
        fs::write(&file, "0\n").unwrap();
        assert_eq!(applier.keep(), Kept { written: 1, status_changed: 0 });
        assert_eq!(fs::read_to_string(&file).unwrap(), "1");
        assert_eq!(applier.list_applied(), out, "statuses unchanged");
    }

    /// A parameter whose file does not exist yet (a VF's, before the VF) is set once it
    /// appears; one whose file vanishes becomes FAILED, and comes back with it.
    #[test]
    fn keep_follows_files_that_appear_and_vanish() {
        let root = fake_root();
        let dir = root.path().join("net/ipv4/conf/pf0vf3");
        let file = dir.join("forwarding");
        let mut applier = Applier::new(root.path());
        let out = applier.sync(vec![object("net.ipv4.conf.pf0vf3.forwarding", "1", 4)]);
        assert_eq!(state(&out[0]), ApplyState::Failed);
        assert_eq!(applier.keep(), Kept::default(), "still absent");
        fs::create_dir_all(&dir).unwrap();
        fs::write(&file, "0\n").unwrap();
        assert_eq!(applier.keep(), Kept { written: 1, status_changed: 1 });
        assert_eq!(fs::read_to_string(&file).unwrap(), "1");
        let listed = applier.list_applied();
        assert_eq!(state(&listed[0]), ApplyState::Applied, "{}", message(&listed[0]));
        assert_eq!(listed[0].status.as_ref().unwrap().applied_generation, 4);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(applier.keep(), Kept { written: 0, status_changed: 1 });
        let listed = applier.list_applied();
        assert_eq!(message(&listed[0]), "no such sysctl: net.ipv4.conf.pf0vf3.forwarding");
        fs::create_dir_all(&dir).unwrap();
        fs::write(&file, "0\n").unwrap();
        assert_eq!(applier.keep(), Kept { written: 1, status_changed: 1 });
        assert_eq!(fs::read_to_string(&file).unwrap(), "1");
    }

    /// A value the kernel refused, and a key that cannot be read back (write-only, like
    /// `vm.drop_caches`), are not written again between syncs: the one would be refused and
    /// undone, the other fired, on every pass.
    #[test]
    fn keep_leaves_refused_and_unreadable_values_alone() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        // A directory where the value's file should be: write and read fail alike.
        fs::create_dir_all(root.path().join("vm/dirty_ratio")).unwrap();
        let out = applier
            .sync(vec![object("vm.dirty_ratio", "5", 1), object("vm.swappiness", "1\n2", 1)]);
        assert!(out.iter().all(|o| state(o) == ApplyState::Failed));
        let writes = applier.writes();
        assert_eq!(applier.keep(), Kept::default());
        assert_eq!(applier.writes(), writes);
        assert_eq!(applier.list_applied(), out);
    }

    /// A value the kernel took but holds otherwise (a thread's name keeps 15 bytes, as
    /// `vm.nr_hugepages` keeps the pages it found) is left as the kernel holds it, not undone;
    /// FAILED with that value shown, and not written again between syncs.
    #[test]
    fn a_value_the_kernel_holds_otherwise_is_left() {
        // A thread of its own, whose name it may change.
        std::thread::spawn(|| {
            let mut applier = Applier::new("/proc/thread-self");
            let out = applier.sync(vec![object("comm", "dpu-sysctl-test-thread", 1)]);
            assert_eq!(state(&out[0]), ApplyState::Failed);
            assert_eq!(out[0].status.as_ref().unwrap().observed_value, "dpu-sysctl-test");
            assert!(
                message(&out[0]).contains("left as the kernel holds it"),
                "{}",
                message(&out[0])
            );
            assert_eq!(fs::read_to_string("/proc/thread-self/comm").unwrap(), "dpu-sysctl-test\n");
            let writes = applier.writes();
            assert_eq!(applier.keep(), Kept::default());
            assert_eq!(applier.writes(), writes);
        })
        .join()
        .unwrap();
    }

    /// ENOENT from write(2) on a file that is there is the kernel refusing the value (an
    /// unknown congestion control; tests/binary.rs has the real one); on a file gone since
    /// the open, the sysctl is gone.
    #[test]
    fn enoent_from_a_write_is_a_refused_value_unless_the_file_went() {
        let root = fake_root();
        let key = "net.ipv4.tcp_congestion_control";
        let file = root.path().join("net/ipv4/tcp_congestion_control");
        fs::write(&file, "cubic\n").unwrap();
        let enoent = || io::Error::from_raw_os_error(nix::libc::ENOENT);
        let err = classify_write(enoent(), &file, key, "bbr2");
        assert!(matches!(err, SysctlError::Rejected { .. }), "{err}");
        assert!(err.to_string().starts_with("kernel rejected value \"bbr2\""), "{err}");
        fs::remove_file(&file).unwrap();
        let err = classify_write(enoent(), &file, key, "bbr2");
        assert!(matches!(err, SysctlError::NotFound { .. }), "{err}");
    }

    /// A value refused with ENOENT is not written again between syncs, like any refused one.
    #[test]
    fn keep_leaves_a_value_refused_with_enoent_alone() {
        let root = fake_root();
        let file = root.path().join("net/ipv4/tcp_congestion_control");
        fs::write(&file, "cubic\n").unwrap();
        let mut applier = Applier::new(root.path());
        applier.sync(vec![object("net.ipv4.tcp_congestion_control", "bbr2", 1)]);
        // What the real kernel would have answered (a test root takes any value).
        let refused = classify_write(
            io::Error::from_raw_os_error(nix::libc::ENOENT),
            &file,
            "net.ipv4.tcp_congestion_control",
            "bbr2",
        );
        applier.applied[0].watch = Watch::after(&Err(refused));
        fs::write(&file, "cubic\n").unwrap();
        let writes = applier.writes();
        assert_eq!(applier.keep(), Kept::default());
        assert_eq!(applier.writes(), writes);
        assert_eq!(fs::read_to_string(&file).unwrap(), "cubic\n");
    }

    /// Two keys of one kernel setting (`net.ipv4.ip_forward` is `net.ipv4.conf.all.forwarding`;
    /// a hard link here) given different values: one holds and the other is FAILED, not
    /// APPLIED over a value the kernel no longer has, and neither is set again between syncs,
    /// which would flip the setting on every pass.
    #[test]
    fn two_keys_of_one_value_are_not_fought_over() {
        let root = fake_root();
        let forward = root.path().join("net/ipv4/ip_forward");
        let all = root.path().join("net/ipv4/conf/all/forwarding");
        fs::hard_link(&forward, &all).unwrap();
        let mut applier = Applier::new(root.path());
        let desired = vec![
            object("net.ipv4.ip_forward", "1", 1),
            object("net.ipv4.conf.all.forwarding", "0", 1),
            object("vm.swappiness", "10", 1),
        ];
        // The second round finds the value as the first left it, and the other key differing.
        for round in 0..2 {
            let out = applier.sync(desired.clone());
            assert_eq!(state(&out[0]), ApplyState::Applied, "round {round}: {}", message(&out[0]));
            assert_eq!(state(&out[1]), ApplyState::Failed, "round {round}");
            assert_eq!(out[1].status.as_ref().unwrap().observed_value, "1");
            assert!(message(&out[1]).contains("changed back"), "{}", message(&out[1]));
            assert_eq!(state(&out[2]), ApplyState::Applied, "round {round}: {}", message(&out[2]));
            assert_eq!(fs::read_to_string(&forward).unwrap(), "1");
            assert_eq!(applier.list_applied(), out);
        }
        let writes = applier.writes();
        for _ in 0..3 {
            assert_eq!(applier.keep(), Kept::default());
        }
        assert_eq!(applier.writes(), writes, "nothing written between syncs");
        assert_eq!(fs::read_to_string(&forward).unwrap(), "1");
    }

    /// The key that lost a fight is not written by the syncs after it while it and its
    /// winner keep their values (each write would flip the kernel value), whatever else of
    /// the set changes; once either changes, or the winner leaves the set, it is set again.
    #[test]
    fn a_lost_fight_is_not_fought_again_until_a_value_of_it_changes() {
        let root = fake_root();
        let forward = root.path().join("net/ipv4/ip_forward");
        fs::hard_link(&forward, root.path().join("net/ipv4/conf/all/forwarding")).unwrap();
        let mut applier = Applier::new(root.path());
        let fight = |swappiness: &str, forwarding: &str| {
            vec![
                object("net.ipv4.ip_forward", "1", 1),
                object("net.ipv4.conf.all.forwarding", forwarding, 1),
                object("vm.swappiness", swappiness, 1),
            ]
        };
        let first = applier.sync(fight("10", "0"));
        let message = message(&first[1]);
        assert!(message.contains("by net.ipv4.ip_forward:"), "{message}");
        let writes = applier.writes();
        assert_eq!(applier.sync(fight("10", "0")), first);
        assert_eq!(applier.writes(), writes, "nothing written by the same set again");
        let out = applier.sync(fight("20", "0"));
        assert_eq!(applier.writes(), writes + 1, "only the other value written");
        assert_eq!(out[..2], first[..2]);
        assert_eq!(applier.keep(), Kept::default());

        // The loser agrees: APPLIED without a write; disagrees again: the fight is fought once.
        let out = applier.sync(fight("20", "1"));
        assert!(out.iter().all(|o| state(o) == ApplyState::Applied), "{out:?}");
        assert_eq!(applier.writes(), writes + 1);
        let out = applier.sync(fight("20", "0"));
        assert_eq!(state(&out[1]), ApplyState::Failed);
        let writes = applier.writes();
        assert!(writes > 0);
        applier.sync(fight("20", "0"));
        assert_eq!(applier.writes(), writes);

        // The winner leaves the set: the other value is set.
        let out = applier.sync(fight("20", "0").split_off(1));
        assert!(out.iter().all(|o| state(o) == ApplyState::Applied), "{out:?}");
        assert_eq!(fs::read_to_string(&forward).unwrap(), "0");
        assert_eq!(applier.writes(), writes + 1);
    }

    #[test]
    fn removed_objects_are_forgotten_not_restored() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        applier.sync(vec![object("net.ipv4.ip_forward", "1", 1), object("vm.swappiness", "5", 1)]);
        let out = applier.sync(vec![object("vm.swappiness", "5", 1)]);
        assert_eq!(out.len(), 1);
        assert_eq!(applier.list_applied().len(), 1);
        assert_eq!(applier.list_applied()[0].name, "sysctls/vm.swappiness");
        assert_eq!(fs::read_to_string(root.path().join("net/ipv4/ip_forward")).unwrap(), "1");
        assert!(applier.sync(Vec::new()).is_empty());
        assert!(applier.list_applied().is_empty());
    }

    #[test]
    fn duplicates_apply_first_only() {
        let root = fake_root();
        let mut applier = Applier::new(root.path());
        let out =
            applier.sync(vec![object("vm.swappiness", "5", 1), object("vm.swappiness", "7", 2)]);
        assert_eq!(state(&out[0]), ApplyState::Applied);
        assert_eq!(state(&out[1]), ApplyState::Failed);
        assert!(message(&out[1]).contains("more than once"));
        assert_eq!(fs::read_to_string(root.path().join("vm/swappiness")).unwrap(), "5");
        assert_eq!(applier.list_applied().len(), 1);
    }

    #[test]
    fn missing_root_fails_every_object() {
        let mut applier = Applier::new("/nonexistent/sysctl/root");
        let out = applier.sync(vec![object("vm.swappiness", "1", 1)]);
        assert_eq!(state(&out[0]), ApplyState::Failed);
        assert_eq!(message(&out[0]), "no such sysctl: vm.swappiness");
    }

    #[test]
    fn mismatch_message_names_both_values() {
        let err = SysctlError::Mismatch {
            key: "kernel.printk".into(),
            desired: "4".into(),
            observed: "4 4 1 7".into(),
        };
        assert_eq!(
            err.to_string(),
            "sysctl kernel.printk reads back \"4 4 1 7\" after writing \"4\": the kernel took \
             the value and holds this one; left as the kernel holds it"
        );
    }
}
