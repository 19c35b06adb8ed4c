//! The state of namespaces that outlives a restart of the service (the target's "power
//! cycle"), kept in files of the service's state directory:
//! - the reservations of namespaces whose hosts asked for Persist Through Power Loss
//!   (NVMe Base 2.0 §8.19, "Reservation Persistence"), as SPDK's per-namespace PTPL
//!   file keeps them;
//! - a host's Write Protect state (Feature 84h, WPS 001b), which §8.12 keeps through a
//!   power cycle (Write Protect Until Power Cycle is not kept, by its definition).
//!
//! One JSON file per namespace, `namespaces/<id>-<nsid>.json` (`NamespaceStore::path`:
//! `<id>` is the hex of [`stable_id`](crate::stable_id) of the subsystem NQN, which may
//! hold any character; the file's `nqn` and `nsid` fields name the namespace, and reading
//! goes by them, not by the name: a file found under another name is renamed to its
//! namespace's at start, the one writes and removals use), written whole
//! (a temporary file, fsync, rename, fsync of the directory) before the command that
//! changed the state completes, and removed when nothing in it is left to keep, or when
//! the operator's desired state no longer has the namespace (also one deleted while the
//! service was down: [`NamespaceStore::sync`]). The files are read once, when the service
//! starts ([`NamespaceStore::open`]), but those of a namespace refused for them, read again
//! before each Sync adds it ([`NamespaceStore::read_again`]); a namespace takes its saved state when it is added
//! with the same NGUID, so a file never attaches state to other data. This module does
//! blocking file I/O: the controller core asks for it with
//! [`IoOp::SaveNamespaces`](crate::queue::IoOp::SaveNamespaces), which the shell runs on
//! a lane of its own (one save at a time, none holding the volumes' pool), and the
//! internal API on a blocking thread. Saves of one namespace's changes share writes
//! ([`NamespaceStore::save_change`]): a save writes the state as it is when it starts,
//! so the changes made while one ran need one more write between them, not one each.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::reservation::{Reservations, RestoreError, SavedReservations};
use crate::target::{HostWriteProtection, Namespace};

/// The subdirectory of the state directory holding the files.
const DIR: &str = "namespaces";
/// Its name before it held more than reservations; renamed on open.
const OLD_DIR: &str = "reservations";

/// Why the store cannot be opened or a file not used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The directory cannot be created or read.
    #[error("{path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// A file is not a namespace state file.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Two files hold the state of one namespace: which one is current is unknown.
    #[error("{path}: namespace {nsid} of {nqn} has its state in {other} too")]
    Duplicate {
        /// The file read second.
        path: PathBuf,
        /// The file read first.
        other: PathBuf,
        /// Subsystem NQN.
        nqn: String,
        /// NSID.
        nsid: u32,
    },
}

/// The format of the files this release writes and reads (and those before it: a file
/// without `version` is version 1).
const VERSION: u32 = 1;

/// One namespace's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamespaceFile {
    /// Its format: a later one is refused by name, not misread. Written only when not 1,
    /// so a release from before the field reads this release's files.
    #[serde(default = "version_1", skip_serializing_if = "is_version_1")]
    version: u32,
    /// Subsystem NQN.
    nqn: String,
    /// NSID.
    nsid: u32,
    /// The namespace's NGUID (32 hex digits): the state is restored only to it.
    nguid: String,
    /// The reservations, when the hosts asked for PTPL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reservations: Option<SavedReservations>,
    /// A host write-protects the namespace (WPS 001b).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    write_protected: bool,
}

fn version_1() -> u32 {
    1
}

fn is_version_1(v: &u32) -> bool {
    *v == 1
}

/// What of a file can be read whatever else it holds: its format, and whose it is.
#[derive(Deserialize)]
struct Head {
    #[serde(default = "version_1")]
    version: u32,
    nqn: Option<String>,
    nsid: Option<u32>,
}

/// What a file held for one namespace.
#[derive(Debug, Default)]
pub struct SavedNamespace {
    /// Its reservations (PTPL on), or none (PTPL off).
    pub reservations: Reservations,
    /// A host write-protected it (Write Protect, WPS 001b).
    pub write_protected: bool,
}

/// A namespace's changes to save, numbered in turn, and how far its file holds them
/// (group commit): a save reads the number of the newest change before it reads the
/// state, so its write holds every change numbered up to there, and a later save of one
/// of them has nothing left to write.
#[derive(Debug, Default)]
pub struct SaveTurns {
    /// The number of the newest change to save.
    changed: AtomicU64,
    /// Every change numbered up to this one is in the file (moved under the store's
    /// `files` lock, after a successful write).
    saved: AtomicU64,
}

impl SaveTurns {
    /// Numbers a change to save; called once it is made in memory (and its lock let go),
    /// before its save is asked for.
    pub fn change(&self) -> u64 {
        // SeqCst with the load in `save_change`: a save that sees this number reads the
        // state after the change.
        self.changed.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// Why a namespace's saved state is not used, and its files.
#[derive(Debug)]
struct Refused {
    files: Vec<PathBuf>,
    error: String,
}

/// The namespace state files of one service.
#[derive(Debug)]
pub struct NamespaceStore {
    dir: PathBuf,
    /// What the files held when the service started, by (NQN, NSID), each taken by the
    /// first namespace added with its NGUID.
    restored: Mutex<HashMap<(String, u32), (String, SavedNamespace)>>,
    /// The namespaces whose files could not be used at start (damaged, of a later format,
    /// two of one namespace), by their namespace's file name: they are not added while
    /// a file is there, and the files are left for the operator; [`read_again`](Self::read_again)
    /// reads them anew.
    refused: Mutex<HashMap<PathBuf, Refused>>,
    /// The files on disk by (NQN, NSID): read at start or written since. Held while a
    /// file is written or removed, so the last write holds the latest state.
    files: Mutex<HashMap<(String, u32), PathBuf>>,
    /// How many times a namespace's state was serialised and compared with its file
    /// (each a write when they differ).
    #[cfg(test)]
    pub(crate) passes: std::sync::atomic::AtomicUsize,
}

impl NamespaceStore {
    /// Opens (creating) `state_dir/namespaces` and reads every file in it. A file that
    /// cannot be read or restored (damaged, of a later format), or a second file of one
    /// namespace, refuses that namespace ([`take`](Self::take) names the files) and is
    /// left as it is: the namespace starting without the saved state would drop the
    /// hosts' reservations (their fence) in silence, and its first save would delete the
    /// file; other namespaces start. Moving the files away is the recovery (the namespace
    /// then starts without them). A file whose namespace cannot be told (not JSON of this
    /// format, under a name that is not a namespace's) is an error naming it.
    pub fn open(state_dir: &Path) -> Result<Self, PersistError> {
        let dir = state_dir.join(DIR);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PersistError::Io { path, source }
        };
        let old = state_dir.join(OLD_DIR);
        if old.is_dir() && !dir.exists() {
            fs::rename(&old, &dir).map_err(io_err(&old))?;
        }
        // By the namespace's file name: the file's own name when the file does not say
        // whose it is.
        let mut found: HashMap<PathBuf, Vec<ReadFile>> = HashMap::new();
        for path in json_files(&dir)? {
            let (own, read) = read_file(&dir, &path)?;
            found.entry(own).or_default().push((path, read));
        }
        let mut restored = HashMap::new();
        let mut read_from: HashMap<(String, u32), PathBuf> = HashMap::new();
        let mut refused = HashMap::new();
        for (own, files) in found {
            match judge(files) {
                None => {}
                Some(Ok((path, file, state))) => {
                    let key = (file.nqn, file.nsid);
                    let registrants = file.reservations.as_ref().map_or(0, |r| r.registrants.len());
                    info!(nqn = %key.0, nsid = key.1, registrants, write_protected = file.write_protected, "namespace state restored");
                    read_from.insert(key.clone(), path);
                    restored.insert(key, (file.nguid, state));
                }
                Some(Err(r)) => {
                    warn!(error = %r.error, "namespace state not usable: its namespace is refused until its files are mended or moved away");
                    refused.insert(own, r);
                }
            }
        }
        take_own_names(&dir, &mut read_from)?;
        Ok(Self {
            dir,
            restored: Mutex::new(restored),
            refused: Mutex::new(refused),
            files: Mutex::new(read_from),
            #[cfg(test)]
            passes: Default::default(),
        })
    }

    /// Holds the lock every save waits for, as a slow disk would (tests).
    #[cfg(test)]
    pub(crate) fn hold(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u32), PathBuf>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The saved state of namespace `nsid` of `nqn`, if one was read (at start, or by
    /// [`read_again`](Self::read_again)) for the same NGUID; it is handed out once. An
    /// error naming the files while the namespace's state could not be used when they
    /// were last read and one of them is still there.
    pub fn take(
        &self,
        nqn: &str,
        nsid: u32,
        nguid: &[u8; 16],
    ) -> Result<Option<SavedNamespace>, String> {
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        let own = self.path(nqn, nsid);
        if let Some(r) = refused.get(&own) {
            if r.files.iter().any(|f| f.exists()) {
                return Err(r.error.clone());
            }
            info!(
                nqn,
                nsid, "the unusable state files were moved away: the namespace starts without them"
            );
            refused.remove(&own);
        }
        drop(refused);
        Ok(self.take_restored(nqn, nsid, nguid))
    }

    /// Whether namespace `nsid` of `nqn` is refused for its files ([`take`](Self::take)).
    pub fn refuses(&self, nqn: &str, nsid: u32) -> bool {
        let refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        refused.contains_key(&self.path(nqn, nsid))
    }

    /// Reads the files of namespace `nsid` of `nqn` again if it is refused for them, so
    /// that a namespace about to be added goes by its files as they are now, not as they
    /// were at start: mended (one file it can use, under any name), it is restored from
    /// it (taking its namespace's name); with no file left, it starts without; else it
    /// stays refused, for the reason found now. Nothing for a namespace not refused: one
    /// served or restored keeps what it has. Blocking.
    pub fn read_again(&self, nqn: &str, nsid: u32) {
        if !self.refuses(nqn, nsid) {
            return;
        }
        let own = self.path(nqn, nsid);
        let judged = self.files_of(&own).map(judge);
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        let mut restored = self.restored.lock().unwrap_or_else(PoisonError::into_inner);
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        let found = match judged {
            Ok(None) => {
                info!(nqn, nsid, "no state file left: the namespace starts without saved state");
                refused.remove(&own);
                return;
            }
            Ok(Some(Ok(found))) => found,
            Ok(Some(Err(r))) => {
                refused.insert(own, r);
                return;
            }
            Err(e) => {
                let files = vec![e_path(&e).to_path_buf()];
                refused.insert(own, Refused { files, error: e.to_string() });
                return;
            }
        };
        let (path, file, state) = found;
        let key = (file.nqn, file.nsid);
        let mut named = HashMap::from([(key.clone(), path.clone())]);
        if let Err(e) = take_own_names(&self.dir, &mut named) {
            refused.insert(own, Refused { files: vec![path], error: e.to_string() });
            return;
        }
        let registrants = file.reservations.as_ref().map_or(0, |r| r.registrants.len());
        info!(
            nqn,
            nsid,
            registrants,
            write_protected = file.write_protected,
            "namespace state file mended: restored"
        );
        files.extend(named);
        restored.insert(key, (file.nguid, state));
        refused.remove(&own);
    }

    /// The files in the directory that hold the state of the namespace whose file is
    /// `own`, each with what it holds; an error if one cannot be read. Leaves the
    /// temporary files of saves under way.
    fn files_of(&self, own: &Path) -> Result<Vec<ReadFile>, PersistError> {
        let mut of_own = Vec::new();
        for path in listed(&self.dir, false)? {
            match read_file(&self.dir, &path) {
                Ok((whose, contents)) if whose == own => of_own.push((path, contents)),
                // Another namespace's, or one that says not whose (stopping the next start,
                // which names it).
                Ok(_) | Err(PersistError::Malformed { .. }) => {}
                // Gone since it was listed.
                Err(PersistError::Io { source, .. })
                    if source.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(of_own)
    }

    fn take_restored(&self, nqn: &str, nsid: u32, nguid: &[u8; 16]) -> Option<SavedNamespace> {
        let mut restored = self.restored.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (nqn.to_owned(), nsid);
        match restored.get(&key) {
            Some((saved, _)) if *saved == hex::encode(nguid) => restored.remove(&key).map(|r| r.1),
            Some(_) => {
                warn!(nqn, nsid, "saved namespace state belongs to another NGUID; not restored");
                None
            }
            None => None,
        }
    }

    /// The file of namespace `nsid` of `nqn`.
    fn path(&self, nqn: &str, nsid: u32) -> PathBuf {
        file_path(&self.dir, nqn, nsid)
    }

    /// Writes `ns`'s state if any of it is kept, else removes its file; nothing for a
    /// namespace already removed from the target. Blocking.
    pub fn save(&self, ns: &Namespace) -> io::Result<()> {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        if ns.detached.load(Ordering::Acquire) {
            return Ok(());
        }
        self.write(&mut files, ns)
    }

    /// Saves change number `change` of `ns` ([`SaveTurns::change`]): nothing if a save
    /// that started after it was numbered wrote it already, else writes the state as
    /// [`save`](Self::save) does, which holds every change numbered so far. A failed write
    /// covers nothing: each change still waiting tries again with its own save. Blocking.
    pub fn save_change(&self, ns: &Namespace, change: u64) -> io::Result<()> {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        if ns.detached.load(Ordering::Acquire) || ns.saves.saved.load(Ordering::Acquire) >= change {
            return Ok(());
        }
        // Before the state is read (under its lock, in `write`): every change numbered up
        // to here is in it.
        let through = ns.saves.changed.load(Ordering::SeqCst);
        self.write(&mut files, ns)?;
        ns.saves.saved.fetch_max(through, Ordering::Release);
        Ok(())
    }

    /// After the namespaces changed: writes the state of every namespace in `live` (those
    /// added since the last call start empty, unless restored). With `wanted`, the
    /// namespaces the desired state holds (those that failed to apply too), the saved
    /// state of every namespace neither live nor wanted goes, file and restored state:
    /// one deleted while the service was down must not come back to a namespace made
    /// again with the same NGUID (a file volume's default NGUIDs are deterministic).
    /// `None` keeps it, for a state that is not the whole desired one (`--config` before
    /// the agent's first Sync). Blocking.
    pub fn sync(
        &self,
        live: &[Arc<Namespace>],
        wanted: Option<&HashSet<(String, u32)>>,
    ) -> io::Result<()> {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        let live_keys: HashSet<(String, u32)> =
            live.iter().map(|ns| (ns.subnqn.clone(), ns.nsid)).collect();
        let gone = |key: &(String, u32)| {
            !live_keys.contains(key) && wanted.is_some_and(|wanted| !wanted.contains(key))
        };
        // What was restored and not taken: a live namespace's file holds its present
        // state from now on, and a gone one's goes.
        let mut restored = self.restored.lock().unwrap_or_else(PoisonError::into_inner);
        restored.retain(|key, _| !live_keys.contains(key) && !gone(key));
        drop(restored);
        for ns in live {
            self.write(&mut files, ns)?;
        }
        let gone: Vec<(String, u32)> = files.keys().filter(|key| gone(key)).cloned().collect();
        for key in gone {
            if let Some(path) = files.get(&key) {
                // Nothing to put back: the namespace is gone from the desired state either
                // way, and the next Sync removes the file again.
                remove(path, None)?;
                info!(nqn = %key.0, nsid = key.1, "saved state of a namespace no longer wanted removed");
            }
            files.remove(&key);
        }
        Ok(())
    }

    /// With `files` held.
    fn write(&self, files: &mut HashMap<(String, u32), PathBuf>, ns: &Namespace) -> io::Result<()> {
        #[cfg(test)]
        self.passes.fetch_add(1, Ordering::Relaxed);
        let path = self.path(&ns.subnqn, ns.nsid);
        let key = (ns.subnqn.clone(), ns.nsid);
        let reservations = {
            let r = ns.reservations.lock().unwrap_or_else(PoisonError::into_inner);
            r.ptpl().then(|| r.save())
        };
        let write_protected = ns.host_write_protection() == HostWriteProtection::WriteProtect;
        // What to put back if the change cannot be made durable; a file that cannot be
        // read fails the save rather than be lost to a put-back.
        let old = match fs::read(&path) {
            Ok(old) => Some(old),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if reservations.is_none() && !write_protected {
            remove(&path, old.as_deref())?;
            files.remove(&key);
            return Ok(());
        }
        let file = NamespaceFile {
            version: VERSION,
            nqn: ns.subnqn.clone(),
            nsid: ns.nsid,
            nguid: hex::encode(ns.nguid),
            reservations,
            write_protected,
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(io::Error::other)?;
        if old.as_deref() != Some(&bytes[..]) {
            write_durably(&path, &bytes, old.as_deref())?;
        }
        files.insert(key, path);
        Ok(())
    }
}

/// The file of namespace `nsid` of `nqn` in `dir` (the NQN hashed: it may hold any
/// character).
fn file_path(dir: &Path, nqn: &str, nsid: u32) -> PathBuf {
    let id = hex::encode(crate::stable_id(&[nqn.as_bytes()]));
    dir.join(format!("{id}-{nsid}.json"))
}

/// Renames each file read under another name than its namespace's (a backup put back by
/// hand) to that name, the one every write and removal uses: left where it is, a release
/// would not remove it (the state would come back after a restart) and a save would write
/// a second file beside it (the next start refusing both). A rename leaves exactly one
/// file through a crash. A name held by another such file is free once that one moved; a
/// name still held then (files that swapped names) is an error naming the file.
fn take_own_names(
    dir: &Path,
    files: &mut HashMap<(String, u32), PathBuf>,
) -> Result<(), PersistError> {
    let mut misnamed: Vec<((String, u32), PathBuf)> = files
        .iter()
        .filter(|((nqn, nsid), path)| **path != file_path(dir, nqn, *nsid))
        .map(|(key, path)| (key.clone(), path.clone()))
        .collect();
    let mut renamed = None;
    // Each round renames one at least, or ends.
    while let Some((_, first)) = misnamed.first() {
        let first = first.clone();
        let before = misnamed.len();
        let mut held = Vec::new();
        for (key, from) in misnamed {
            let to = file_path(dir, &key.0, key.1);
            if to.exists() {
                held.push((key, from));
                continue;
            }
            fs::rename(&from, &to)
                .map_err(|source| PersistError::Io { path: from.clone(), source })?;
            info!(from = %from.display(), to = %to.display(), "namespace state file renamed to its namespace's name");
            files.insert(key, to.clone());
            renamed = Some(to);
        }
        if held.len() == before {
            let reason = "its namespace's file name holds another namespace's state".to_owned();
            return Err(PersistError::Malformed { path: first, reason });
        }
        misnamed = held;
    }
    match renamed {
        Some(path) => sync_dir(&path).map_err(|source| PersistError::Io { path, source }),
        None => Ok(()),
    }
}

/// What a file holds: its namespace's state, or why it cannot be used.
type Contents = Result<(NamespaceFile, SavedNamespace), PersistError>;
/// A file of the directory and what it holds.
type ReadFile = (PathBuf, Contents);

/// Reads file `path` of `dir`: the name of its namespace's file (its own name when it
/// does not say whose it is) and what it holds. An error when it cannot be read, or says
/// not whose it is under a name that is no namespace's.
fn read_file(dir: &Path, path: &Path) -> Result<(PathBuf, Contents), PersistError> {
    let bytes =
        fs::read(path).map_err(|source| PersistError::Io { path: path.to_path_buf(), source })?;
    let head = serde_json::from_slice::<Head>(&bytes).ok();
    let own = match head.and_then(|h| h.nqn.zip(h.nsid)) {
        Some((nqn, nsid)) => file_path(dir, &nqn, nsid),
        None if is_namespace_file_name(path) => path.to_path_buf(),
        None => {
            let reason = parse(&bytes).err().unwrap_or_default();
            return Err(PersistError::Malformed { path: path.to_path_buf(), reason });
        }
    };
    let read = parse(&bytes)
        .map_err(|reason| PersistError::Malformed { path: path.to_path_buf(), reason });
    Ok((own, read))
}

/// Judges the files of one namespace: its one file and what it restores, or why the
/// namespace is refused (a file it cannot use, or a second one), naming the files.
/// `None` for no file.
fn judge(
    mut files: Vec<ReadFile>,
) -> Option<Result<(PathBuf, NamespaceFile, SavedNamespace), Refused>> {
    let error = match files.pop()? {
        (path, Ok((file, state))) if files.is_empty() => return Some(Ok((path, file, state))),
        (_, Err(e)) => e,
        (path, Ok((file, _))) => PersistError::Duplicate {
            other: files[0].0.clone(),
            path,
            nqn: file.nqn,
            nsid: file.nsid,
        },
    };
    let mut paths: Vec<PathBuf> = files.into_iter().map(|(p, _)| p).collect();
    paths.push(e_path(&error).to_path_buf());
    paths.sort();
    paths.dedup();
    let mut error = error.to_string();
    if paths.len() > 1 {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        error = format!("{error} (its files: {})", names.join(", "));
    }
    Some(Err(Refused { files: paths, error }))
}

/// The file an error names.
fn e_path(e: &PersistError) -> &Path {
    match e {
        PersistError::Io { path, .. }
        | PersistError::Malformed { path, .. }
        | PersistError::Duplicate { path, .. } => path,
    }
}

/// Whether `path` is named as [`file_path`] names a namespace's file.
fn is_namespace_file_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let Some((id, nsid)) = name.strip_suffix(".json").and_then(|n| n.split_once('-')) else {
        return false;
    };
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && nsid.parse::<u32>().is_ok()
}

/// Checks the contents of one file as [`NamespaceStore::open`] does and returns what it
/// would restore; the reason otherwise. No I/O (the fuzz target `nvmf_state_file`).
pub fn parse_state_file(bytes: &[u8]) -> Result<SavedNamespace, String> {
    parse(bytes).map(|(_, state)| state)
}

fn parse(bytes: &[u8]) -> Result<(NamespaceFile, SavedNamespace), String> {
    // Before the fields: a later format may have others.
    if let Ok(Head { version, .. }) = serde_json::from_slice::<Head>(bytes)
        && !(1..=VERSION).contains(&version)
    {
        return Err(format!("format version {version}; this release reads 1 to {VERSION}"));
    }
    let file: NamespaceFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut nguid = [0u8; 16];
    hex::decode_to_slice(&file.nguid, &mut nguid)
        .map_err(|_| format!("nguid {:?} is not 32 hex digits", file.nguid))?;
    let reservations = match &file.reservations {
        Some(saved) => Reservations::restore(saved).map_err(|e: RestoreError| e.to_string())?,
        None => Reservations::default(),
    };
    let state = SavedNamespace { reservations, write_protected: file.write_protected };
    Ok((file, state))
}
/// The JSON files of state directory `dir` (made if missing), after removing the
/// temporary files of writes the service did not finish ([`write_durably`]).
pub(crate) fn json_files(dir: &Path) -> Result<Vec<PathBuf>, PersistError> {
    fs::create_dir_all(dir)
        .map_err(|source| PersistError::Io { path: dir.to_path_buf(), source })?;
    listed(dir, true)
}

/// The JSON files of `dir`; with `remove_tmp`, removes the temporary files of writes the
/// service did not finish (only at start: later, one may be a save under way).
fn listed(dir: &Path, remove_tmp: bool) -> Result<Vec<PathBuf>, PersistError> {
    let io_err = |source| PersistError::Io { path: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => files.push(path),
            Some("tmp") if remove_tmp => {
                let _ = fs::remove_file(&path);
            }
            _ => {}
        }
    }
    Ok(files)
}

/// Replaces `path`, holding `old` (`None`: no file), with `bytes` so that a crash leaves
/// the old or the new file, and both the data and the rename are on disk when it returns.
/// If the rename cannot be made durable, the command fails and its change is put back in
/// memory, so the file is put back too ([`put_back`]).
pub(crate) fn write_durably(path: &Path, bytes: &[u8], old: Option<&[u8]>) -> io::Result<()> {
    replace(path, bytes)?;
    sync_dir(path).inspect_err(|_| put_back(path, old))
}

/// Writes `bytes` to a temporary file, syncs it and renames it to `path`.
fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}

/// Removes `path` (and makes the removal durable), if it exists; if the removal cannot be
/// made durable, puts `old` back, its contents (`None`: nothing to put back).
pub(crate) fn remove(path: &Path, old: Option<&[u8]>) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(path).inspect_err(|_| {
            if old.is_some() {
                put_back(path, old);
            }
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// After a change of `path` whose directory sync failed: the file held `old` (`None`: no
/// file) before. The change may be on disk all the same, and a restart would then restore
/// a change the host was told had failed; so the old contents go back, as durably as the
/// directory allows (best effort: the failure already reported is the caller's).
fn put_back(path: &Path, old: Option<&[u8]>) {
    let undone = match old {
        Some(old) => replace(path, old),
        None => fs::remove_file(path).or_else(|e| match e.kind() {
            io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        }),
    };
    if let Err(e) = undone.and_then(|()| sync_dir(path)) {
        warn!(path = %path.display(), error = %e, "namespace state file not put back after a failed directory sync");
    }
}

#[cfg(test)]
thread_local! {
    /// How many of this thread's next directory syncs fail (tests).
    static FAIL_DIR_SYNCS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(test)]
    if FAIL_DIR_SYNCS.with(|n| n.replace(n.get().saturating_sub(1))) > 0 {
        return Err(io::Error::other("directory sync failed (injected)"));
    }
    match path.parent() {
        Some(dir) => fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::reservation::Host;
    use crate::target::{SubsystemSpec, Target};
    use crate::volume::Volume;

    const SUB: &str = "nqn.2024-01.io.example:ptpl";
    const HOST: &str = "nqn.2014-08.org.example:h";

    /// A target with subsystem `SUB`, saving to `store`.
    fn target(store: Arc<NamespaceStore>) -> Arc<Target> {
        let t = Target::new();
        t.set_namespace_store(store);
        let spec = SubsystemSpec {
            nqn: SUB.into(),
            serial: "S".into(),
            model: "m".into(),
            allow_any_host: true,
            hosts: Default::default(),
            host_secrets: Default::default(),
            cntlids: crate::target::ALL_CNTLIDS,
            max_io_queues: crate::target::DEFAULT_IO_QUEUES,
        };
        t.add_subsystem(spec).unwrap();
        t
    }

    /// Adds namespace `nsid` of `SUB` with NGUID `[nsid; 16]`.
    fn add(t: &Target, nsid: u32) -> Arc<Namespace> {
        let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
        t.add_namespace(SUB, nsid, v, [nsid as u8; 16], [0; 16]).unwrap();
        t.namespace(SUB, nsid).unwrap()
    }

    /// Reservations with PTPL on and the host `[id; 16]` registered.
    fn ptpl_registered(id: u8) -> Reservations {
        let mut r = Reservations::default();
        r.register(&Host::new([id; 16], HOST.into()), 0, false, 0, 5).unwrap();
        r.set_ptpl(true);
        r
    }

    /// The file of namespace 1 of `SUB` with PTPL on and one registrant, as a save writes
    /// it.
    fn ptpl_file() -> NamespaceFile {
        NamespaceFile {
            version: VERSION,
            nqn: SUB.into(),
            nsid: 1,
            nguid: hex::encode([1u8; 16]),
            reservations: Some(ptpl_registered(1).save()),
            write_protected: false,
        }
    }

    /// The text of [`ptpl_file`] for namespace `nsid` (with an NGUID of its own).
    fn ptpl_file_text(nsid: u32) -> String {
        let f = NamespaceFile { nsid, nguid: hex::encode([nsid as u8; 16]), ..ptpl_file() };
        serde_json::to_string_pretty(&f).unwrap()
    }

    /// `state_dir` with namespace 1's file under a name of the operator's (a backup put
    /// back), the service's own name free.
    fn put_back_as_backup(state_dir: &Path) {
        let files = state_dir.join(DIR);
        fs::create_dir_all(&files).unwrap();
        fs::write(files.join("backup.json"), serde_json::to_vec_pretty(&ptpl_file()).unwrap())
            .unwrap();
    }

    /// A file under another name than the service's is the namespace's file all the same:
    /// the state no longer kept (PTPL turned off) does not come back after a restart.
    #[test]
    fn a_file_put_back_under_another_name_goes_when_its_state_does() {
        let dir = tempfile::tempdir().unwrap();
        put_back_as_backup(dir.path());
        let store = Arc::new(NamespaceStore::open(dir.path()).unwrap());
        let ns = add(&target(store.clone()), 1);
        assert!(ns.reservations.lock().unwrap().ptpl(), "restored");
        ns.reservations.lock().unwrap().set_ptpl(false);
        store.save(&ns).unwrap();
        let store = NamespaceStore::open(dir.path()).unwrap();
        assert!(store.take(SUB, 1, &[1; 16]).unwrap().is_none(), "PTPL off keeps nothing");
        assert_eq!(fs::read_dir(dir.path().join(DIR)).unwrap().count(), 0);
    }

    /// ... and a save replaces it rather than writing a second file beside it, which would
    /// stop the next start (`Duplicate`).
    #[test]
    fn a_file_put_back_under_another_name_is_replaced_by_a_save() {
        let dir = tempfile::tempdir().unwrap();
        put_back_as_backup(dir.path());
        let store = Arc::new(NamespaceStore::open(dir.path()).unwrap());
        let ns = add(&target(store.clone()), 1);
        let mut r = ns.reservations.lock().unwrap();
        r.register(&Host::new([2; 16], HOST.into()), 0, false, 0, 6).unwrap();
        drop(r);
        store.save(&ns).unwrap();
        let store = NamespaceStore::open(dir.path()).unwrap();
        let saved = store.take(SUB, 1, &[1; 16]).unwrap().unwrap().reservations.save();
        assert_eq!(saved.registrants.len(), 2, "the latest state");
        assert_eq!(fs::read_dir(dir.path().join(DIR)).unwrap().count(), 1);
    }

    /// A write or removal whose directory sync fails fails, and leaves the file as it was
    /// (or absent): the caller puts the state back in memory, and a restart must not
    /// restore a change the host was told had failed.
    #[test]
    fn a_failed_directory_sync_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(NamespaceStore::open(dir.path()).unwrap());
        let t = target(store.clone());
        let (one, two) = (add(&t, 1), add(&t, 2));
        *one.reservations.lock().unwrap() = ptpl_registered(1);
        store.save(&one).unwrap();
        let before = fs::read_to_string(store.path(SUB, 1)).unwrap();
        let fail_next_dir_sync = || FAIL_DIR_SYNCS.with(|n| n.set(1));
        // A change of the file.
        let mut r = one.reservations.lock().unwrap();
        r.register(&Host::new([2; 16], HOST.into()), 0, false, 0, 6).unwrap();
        drop(r);
        fail_next_dir_sync();
        store.save(&one).unwrap_err();
        assert_eq!(fs::read_to_string(store.path(SUB, 1)).unwrap(), before, "the old state");
        // Its removal (PTPL off).
        one.reservations.lock().unwrap().set_ptpl(false);
        fail_next_dir_sync();
        store.save(&one).unwrap_err();
        assert_eq!(fs::read_to_string(store.path(SUB, 1)).unwrap(), before, "still there");
        // A new file.
        *two.reservations.lock().unwrap() = ptpl_registered(1);
        fail_next_dir_sync();
        store.save(&two).unwrap_err();
        assert!(!store.path(SUB, 2).exists(), "none, as before");
        drop(store);
        let store = NamespaceStore::open(dir.path()).unwrap();
        assert_eq!(
            store.take(SUB, 1, &[1; 16]).unwrap().unwrap().reservations.save().registrants.len(),
            1
        );
        assert!(store.take(SUB, 2, &[2; 16]).unwrap().is_none());
    }

    /// Files that swapped names cannot both take their own: an error naming one, both
    /// left as they were.
    #[test]
    fn files_that_swapped_names_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join(DIR);
        fs::create_dir(&files).unwrap();
        let one = ptpl_file();
        let two = NamespaceFile { nsid: 2, ..ptpl_file() };
        let (at_two, at_one) = (file_path(&files, SUB, 2), file_path(&files, SUB, 1));
        fs::write(&at_two, serde_json::to_vec(&one).unwrap()).unwrap();
        fs::write(&at_one, serde_json::to_vec(&two).unwrap()).unwrap();
        let e = NamespaceStore::open(dir.path()).unwrap_err();
        assert!(
            matches!(&e, PersistError::Malformed { path, .. } if *path == at_two || *path == at_one),
            "{e}"
        );
        assert_eq!(fs::read(&at_two).unwrap(), serde_json::to_vec(&one).unwrap());
        assert_eq!(fs::read(&at_one).unwrap(), serde_json::to_vec(&two).unwrap());
    }

    /// What the internal API does after a sync: the files of live namespaces are
    /// written, those of namespaces gone are removed; a namespace removed and added
    /// again in one sync starts empty, on disk too.
    #[test]
    fn sync_follows_the_namespaces() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(NamespaceStore::open(dir.path()).unwrap());
        let t = target(store.clone());
        let add = |nsid: u32| {
            let ns = add(&t, nsid);
            *ns.reservations.lock().unwrap() = ptpl_registered(1);
            ns
        };
        let (one, two) = (add(1), add(2));
        let wanted = HashSet::from([(SUB.to_owned(), 1), (SUB.to_owned(), 2)]);
        store.sync(&t.all_namespaces(), Some(&wanted)).unwrap();
        assert!(store.path(SUB, 1).exists() && store.path(SUB, 2).exists());
        // 1 removed, 2 removed and added again (empty): one file is gone, the other
        // says "no PTPL" by its absence.
        t.remove_namespace(SUB, 1).unwrap();
        t.remove_namespace(SUB, 2).unwrap();
        store.save(&one).unwrap();
        assert!(store.path(SUB, 1).exists(), "a removed namespace saves nothing");
        let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
        t.add_namespace(SUB, 2, v, [2; 16], [0; 16]).unwrap();
        store.sync(&t.all_namespaces(), Some(&HashSet::from([(SUB.to_owned(), 2)]))).unwrap();
        assert!(!store.path(SUB, 1).exists() && !store.path(SUB, 2).exists());
        drop(two);
        // A file left from a crash mid-write goes at start.
        std::fs::write(dir.path().join("namespaces/x.tmp"), b"{").unwrap();
        NamespaceStore::open(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path().join("namespaces")).unwrap().count(), 0);
    }

    /// A state directory from before write protection was kept: its `reservations`
    /// directory becomes `namespaces`, and its files (without `write_protected`) restore
    /// the reservations, unprotected.
    #[test]
    fn files_of_the_reservations_directory_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(OLD_DIR);
        fs::create_dir(&old).unwrap();
        let file = ptpl_file();
        let json = serde_json::to_string(&file).unwrap();
        assert!(!json.contains("write_protected"), "the old format: {json}");
        fs::write(old.join("x-1.json"), json).unwrap();
        let store = NamespaceStore::open(dir.path()).unwrap();
        // Under its namespace's name from now on.
        assert!(!old.exists() && store.path(SUB, 1).exists());
        let saved = store.take(SUB, 1, &[1; 16]).unwrap().unwrap();
        assert!(saved.reservations.ptpl() && !saved.write_protected);
    }

    /// A file the service cannot use (damaged, of a later format), or a second file of one
    /// namespace, refuses that namespace alone, with an error naming the files, left as
    /// they were: the namespace starting without its state would drop the hosts'
    /// reservations, and its first save would delete the file. The other namespaces
    /// start, with their state; once the files are moved away, so does that namespace,
    /// without it.
    #[test]
    fn a_damaged_later_or_second_file_refuses_its_namespace_alone() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join(DIR);
        fs::create_dir(&files).unwrap();
        let file = ptpl_file_text;
        let name = |nsid: u32| file_path(&files, SUB, nsid);
        let damaged = file(1)[..file(1).len() / 2].to_owned();
        let later = file(2).replacen('{', "{\"version\": 2, \"future\": true,", 1);
        fs::write(name(1), &damaged).unwrap();
        fs::write(name(2), &later).unwrap();
        fs::write(name(3), file(3)).unwrap();
        fs::write(files.join("copy.json"), file(3)).unwrap();
        fs::write(name(4), file(4)).unwrap();
        let store = Arc::new(NamespaceStore::open(dir.path()).unwrap());
        let t = target(store.clone());
        let refusal = |nsid: u32| {
            let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
            t.add_namespace(SUB, nsid, v, [nsid as u8; 16], [0; 16]).unwrap_err().to_string()
        };
        let in_it =
            |e: &str, nsid: u32| e.contains(name(nsid).file_name().unwrap().to_str().unwrap());
        let e = refusal(1);
        assert!(in_it(&e, 1), "{e}");
        let e = refusal(2);
        assert!(in_it(&e, 2) && e.contains("format version 2"), "{e}");
        let e = refusal(3);
        assert!(in_it(&e, 3) && e.contains("copy.json"), "{e}");
        assert!(add(&t, 4).reservations.lock().unwrap().ptpl(), "restored");
        assert!(t.namespace(SUB, 1).is_none());
        assert_eq!(fs::read_to_string(name(1)).unwrap(), damaged, "left as it was");
        assert_eq!(fs::read_to_string(name(2)).unwrap(), later, "left as it was");
        assert_eq!(fs::read_dir(&files).unwrap().count(), 5, "all left");
        // Moved away: the namespace starts, without the state.
        fs::rename(name(1), dir.path().join("moved.json")).unwrap();
        assert!(!add(&t, 1).reservations.lock().unwrap().ptpl());
        // A file that says not whose it is, under a name of no namespace, stops the start.
        let junk = files.join("junk.json");
        fs::write(&junk, b"{").unwrap();
        let e = NamespaceStore::open(dir.path()).unwrap_err();
        assert!(matches!(&e, PersistError::Malformed { path, .. } if *path == junk), "{e}");
    }

    /// A refused namespace about to be added goes by its files as they are now
    /// (`read_again`): still damaged, refused; a backup put back under a name of the
    /// operator's, or the second file removed, restores it from the one left (under its
    /// namespace's name). A namespace not refused is not read again.
    #[test]
    fn a_refused_namespace_goes_by_its_files_as_they_are_now() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join(DIR);
        fs::create_dir(&files).unwrap();
        let file = ptpl_file_text;
        let name = |nsid: u32| file_path(&files, SUB, nsid);
        fs::write(name(1), file(1).replacen('{', "{\"version\": 2,", 1)).unwrap();
        fs::write(name(3), file(3)).unwrap();
        fs::write(files.join("copy.json"), file(3)).unwrap();
        fs::write(name(4), file(4)).unwrap();
        let store = Arc::new(NamespaceStore::open(dir.path()).unwrap());
        assert!(store.refuses(SUB, 1) && store.refuses(SUB, 3) && !store.refuses(SUB, 4));
        let t = target(store.clone());

        assert!(store.take(SUB, 1, &[1; 16]).unwrap_err().contains("format version 2"));
        fs::write(name(1), &file(1)[..20]).unwrap();
        store.read_again(SUB, 1);
        let e = store.take(SUB, 1, &[1; 16]).unwrap_err();
        assert!(e.contains("EOF") && !e.contains("format version"), "the damage now: {e}");
        fs::remove_file(name(1)).unwrap();
        fs::write(files.join("backup.json"), file(1)).unwrap();
        store.read_again(SUB, 1);
        assert!(!store.refuses(SUB, 1));
        assert!(name(1).exists() && !files.join("backup.json").exists(), "its own name");
        assert!(add(&t, 1).reservations.lock().unwrap().ptpl(), "restored");

        fs::remove_file(files.join("copy.json")).unwrap();
        store.read_again(SUB, 3);
        assert!(add(&t, 3).reservations.lock().unwrap().ptpl(), "restored from the one left");

        // Read at start, its state stays what it was then.
        fs::write(name(4), "{").unwrap();
        store.read_again(SUB, 4);
        assert!(add(&t, 4).reservations.lock().unwrap().ptpl(), "restored");
    }

    /// The fuzz target's seed is a file the service restores: two registrants, a Write
    /// Exclusive reservation and a host's Write Protect; damaged, it restores nothing.
    #[test]
    fn the_fuzz_seed_parses_and_damage_is_refused() {
        let seed =
            include_bytes!("../../dpu-fuzz/seeds/nvmf_state_file/ptpl-and-write-protect.json");
        let state = parse_state_file(seed).unwrap();
        assert!(state.write_protected && state.reservations.is_reserved());
        assert_eq!(state.reservations.save().registrants.len(), 2);
        let text = std::str::from_utf8(seed).unwrap();
        // Version 1 is the version of a file without one, the seed's, which a save writes
        // without one (a release from before the field reads it).
        parse_state_file(text.replacen('{', "{\"version\": 1,", 1).as_bytes()).unwrap();
        assert!(!text.contains("version"));
        let (file, _) = parse(seed).unwrap();
        assert_eq!(
            serde_json::from_slice::<NamespaceFile>(&serde_json::to_vec(&file).unwrap()).unwrap(),
            file
        );
        assert!(!serde_json::to_string(&file).unwrap().contains("version"));
        for damaged in [
            text.replace("\"rtype\": 1", "\"rtype\": 9"),
            text.replace("3d1f0c5e7a2b4c619e0d5b8a4f2c6e17\", \"rtype", "ffff\", \"rtype"),
            text.replace("\"nsid\": 1", "\"nsid\": -1"),
            text.replace("\"write_protected\"", "\"write_protect\""),
            text[..text.len() / 2].to_owned(),
            text.replacen('{', "{\"version\": 2,", 1),
            text.replacen('{', "{\"version\": 0,", 1),
        ] {
            assert!(parse_state_file(damaged.as_bytes()).is_err(), "{damaged}");
        }
    }
}
