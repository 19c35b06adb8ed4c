//! Which file volumes the service has opened, kept through a restart in its state
//! directory, so that a volume's file is made only when the volume is first applied.
//!
//! A file volume whose file is missing is made anew, empty, only at its first opening: once
//! it was opened, its file held the hosts' data, and one missing later (deleted, a backup
//! not restored yet, its file system not mounted yet at boot) made anew would serve zeros
//! under the namespace's old identifiers, which a reconnecting host takes for its disk.
//! Linux's nvmet opens a namespace's file without `O_CREAT` and fails instead; so does
//! such a volume here, until its file is back or the volume is deleted.
//!
//! One JSON file per volume, `volumes/<id>.json` (`<id>`: the hex of
//! [`stable_id`](crate::stable_id) of where the volume comes from and its name; the file's
//! fields name it), written whole as `persist`'s files are (temporary file, fsync, rename,
//! fsync of the directory) before the volume is served, and removed when the desired state
//! no longer has the volume (the agent's Sync, or the service's configuration file for its
//! own volumes). Without a state directory the records live as long as the process:
//! after a restart every missing file is made anew, as before this module. Blocking file
//! I/O: the internal API calls it on blocking threads, the configuration file at start.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tracing::info;

use crate::persist::{PersistError, json_files, remove, write_durably};
use crate::volume::medium;

/// The subdirectory of the state directory holding the records.
const DIR: &str = "volumes";

/// Who names a volume: volume names of the agent's Sync and of the service's
/// configuration file (`--config`) are apart, and each forgets only its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The agent's Sync (`volumes/{id}`).
    Sync,
    /// The service's configuration file.
    Config,
}

/// One volume's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    source: Source,
    /// The volume's name.
    volume: String,
    /// Its file's path, as the spec wrote it.
    path: String,
    /// When the agent created the volume (Unix nanoseconds; 0: not said): a volume deleted
    /// and created again under its name while the service did not see it is another one.
    #[serde(default, skip_serializing_if = "is_zero")]
    created: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A volume's identity for [`VolumeRecords`]: where it comes from, its name, its file's
/// path as written (compared as [`medium`] resolves it) and when the agent created it (0
/// if not said).
#[derive(Clone, Copy, Debug)]
pub struct FileVolume<'a> {
    /// Who names it.
    pub source: Source,
    /// Its name.
    pub name: &'a str,
    /// Its file's path, as written.
    pub path: &'a str,
    /// When it was created, Unix nanoseconds; 0 if not said.
    pub created: i64,
}

impl FileVolume<'_> {
    fn record(&self) -> Record {
        Record {
            source: self.source,
            volume: self.name.to_owned(),
            path: self.path.to_owned(),
            created: self.created,
        }
    }
}

/// The file volumes the service has opened, by source and name.
#[derive(Debug, Default)]
pub struct VolumeRecords {
    /// `state_dir/volumes`, or none: the records live in memory only.
    dir: Option<PathBuf>,
    /// Held while a file is written, so the last write holds the latest record.
    records: Mutex<HashMap<(Source, String), Record>>,
}

impl VolumeRecords {
    /// Records kept in memory only (no state directory).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Opens (creating) `state_dir/volumes` and reads every record in it. A file that is
    /// not a record, or a second record of one volume, is an error naming it: without its
    /// record, the volume's missing file would be made anew. Moving the file away is the
    /// recovery (the volume's file is then made if missing).
    pub fn open(state_dir: &Path) -> Result<Self, PersistError> {
        let dir = state_dir.join(DIR);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PersistError::Io { path, source }
        };
        let mut records = HashMap::new();
        let mut read_from: HashMap<(Source, String), PathBuf> = HashMap::new();
        for path in json_files(&dir)? {
            let bytes = fs::read(&path).map_err(io_err(&path))?;
            let malformed = |reason: String| PersistError::Malformed { path: path.clone(), reason };
            let record: Record =
                serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
            let key = (record.source, record.volume.clone());
            if let Some(other) = read_from.insert(key.clone(), path.clone()) {
                let why = format!("volume {} has its record in {} too", key.1, other.display());
                return Err(malformed(why));
            }
            records.insert(key, record);
        }
        Ok(Self { dir: Some(dir), records: Mutex::new(records) })
    }

    /// Whether `volume` was opened before (the same name, source, file and creation):
    /// then its file, if missing, must not be made anew. Blocking (resolves the paths).
    pub fn opened_before(&self, volume: &FileVolume<'_>) -> bool {
        let key = (volume.source, volume.name.to_owned());
        let record = self.records.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
        record.is_some_and(|r| {
            let either_unsaid = r.created == 0 || volume.created == 0;
            same_file(&r.path, volume.path) && (either_unsaid || r.created == volume.created)
        })
    }

    /// Records that `volume` is opened, on disk before it returns (nothing to write if
    /// the record says so already). Blocking.
    pub fn note(&self, volume: &FileVolume<'_>) -> io::Result<()> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (volume.source, volume.name.to_owned());
        let mut record = volume.record();
        if let Some(old) = records.get(&key) {
            // A creation time not said keeps the one known.
            if record.created == 0 && same_file(&old.path, &record.path) {
                record.created = old.created;
            }
            if *old == record {
                return Ok(());
            }
        }
        if let Some(path) = self.path(&key) {
            let bytes = serde_json::to_vec_pretty(&record).map_err(io::Error::other)?;
            // What a failed directory sync puts back: the record as written before.
            let old = records.get(&key).and_then(|r| serde_json::to_vec_pretty(r).ok());
            write_durably(&path, &bytes, old.as_deref())?;
        }
        records.insert(key, record);
        Ok(())
    }

    /// Forgets the records of `source` whose volumes `wanted` does not hold: the desired
    /// state no longer has them, so a volume made again under the name makes its file.
    /// Blocking.
    pub fn keep_only(&self, source: Source, wanted: impl Fn(&str) -> bool) -> io::Result<()> {
        let gone: Vec<String> = {
            let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
            let keys = records.keys().filter(|(s, name)| *s == source && !wanted(name));
            keys.map(|(_, name)| name.clone()).collect()
        };
        for name in gone {
            self.forget(source, &name)?;
            info!(volume = %name, "record of a file volume no longer wanted removed");
        }
        Ok(())
    }

    /// Forgets volume `name` of `source` (its opening was taken back). Blocking.
    pub fn forget(&self, source: Source, name: &str) -> io::Result<()> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (source, name.to_owned());
        if let Some(path) = self.path(&key) {
            let old = records.get(&key).and_then(|r| serde_json::to_vec_pretty(r).ok());
            remove(&path, old.as_deref())?;
        }
        records.remove(&key);
        Ok(())
    }

    /// The file of the record of `key`, if records are kept on disk.
    fn path(&self, (source, name): &(Source, String)) -> Option<PathBuf> {
        let from: &[u8] = match source {
            Source::Sync => b"sync",
            Source::Config => b"config",
        };
        let id = hex::encode(crate::stable_id(&[from, name.as_bytes()]));
        self.dir.as_ref().map(|dir| dir.join(format!("{id}.json")))
    }
}

/// Whether paths `a` and `b` name one file, as [`medium`] resolves them (whether it is
/// there or not): a record names the file, not a spelling of its path. Blocking.
fn same_file(a: &str, b: &str) -> bool {
    a == b || medium(Path::new(a)) == medium(Path::new(b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn volume<'a>(name: &'a str, path: &'a str, created: i64) -> FileVolume<'a> {
        FileVolume { source: Source::Sync, name, path, created }
    }

    /// Records outlive the store that wrote them, by source, name, path and creation;
    /// those no longer wanted go, on disk too, and only those of the source asked.
    #[test]
    fn records_outlive_a_restart_and_go_when_not_wanted() {
        let dir = tempfile::tempdir().unwrap();
        let records = VolumeRecords::open(dir.path()).unwrap();
        let a = volume("volumes/a", "/srv/a.img", 7);
        assert!(!records.opened_before(&a));
        records.note(&a).unwrap();
        let config = FileVolume { source: Source::Config, ..volume("volumes/a", "/srv/c.img", 0) };
        records.note(&config).unwrap();
        drop(records);

        let records = VolumeRecords::open(dir.path()).unwrap();
        assert!(records.opened_before(&a));
        assert!(records.opened_before(&volume("volumes/a", "/srv/a.img", 0)), "creation unsaid");
        assert!(!records.opened_before(&volume("volumes/a", "/srv/a.img", 8)), "made again");
        assert!(!records.opened_before(&volume("volumes/a", "/srv/b.img", 7)), "another file");
        assert!(records.opened_before(&config));
        records.keep_only(Source::Sync, |_| false).unwrap();
        assert!(!records.opened_before(&a));
        assert!(records.opened_before(&config), "the file's volume is not the Sync's to drop");
        drop(records);
        let records = VolumeRecords::open(dir.path()).unwrap();
        assert!(!records.opened_before(&a) && records.opened_before(&config));
        assert_eq!(fs::read_dir(dir.path().join(DIR)).unwrap().count(), 1);
    }

    /// A record names the volume's file however its path is spelt (`.`, repeated `/`,
    /// `..`, a linked directory), as [`crate::volume::medium`] resolves it, the file there
    /// or not: another spelling of the same file was opened before; another file was not.
    #[test]
    fn another_spelling_of_the_path_was_opened_before() {
        let dir = tempfile::tempdir().unwrap();
        let real = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir(real.join("d")).unwrap();
        std::os::unix::fs::symlink(real.join("d"), real.join("link")).unwrap();
        let records = VolumeRecords::open(&real.join("state")).unwrap();
        let at = |spelt: &str| format!("{}/{spelt}", real.display());
        records.note(&volume("volumes/a", &at("d/a.img"), 7)).unwrap();
        for spelt in ["d/./a.img", "d//a.img", "d/../d/a.img", "link/a.img", "gone/../d/a.img"] {
            let path = at(spelt);
            assert!(records.opened_before(&volume("volumes/a", &path, 7)), "{spelt}");
            assert!(records.opened_before(&volume("volumes/a", &path, 0)), "{spelt}, unsaid");
        }
        assert!(!records.opened_before(&volume("volumes/a", &at("a.img"), 7)), "another file");
        // A creation time not said keeps the one known under another spelling too.
        records.note(&volume("volumes/a", &at("link/a.img"), 0)).unwrap();
        assert!(!records.opened_before(&volume("volumes/a", &at("d/a.img"), 8)), "made again");
    }

    /// A record the service cannot read stops the start naming it, left as it was.
    #[test]
    fn a_damaged_record_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(DIR)).unwrap();
        let file = dir.path().join(DIR).join("x.json");
        fs::write(&file, b"{\"source\": \"sync\"").unwrap();
        let e = VolumeRecords::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("x.json"), "{e}");
        assert!(file.exists());
    }
}
