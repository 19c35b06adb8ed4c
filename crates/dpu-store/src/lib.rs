//! Durable desired state for the agent.
//!
//! Invariants:
//! - Every mutation is flushed to disk before the call returns, so an acknowledged write survives
//!   `kill -9` and power loss (the agent replies only after this returns).
//! - Nothing is answered from a write that is not on disk yet. Reads see the tree, which
//!   holds writes whose flush is still under way; an answer built on a read (a Get, a List,
//!   an update that changes nothing, a delete of a missing object, a sync to a service)
//!   waits for [`Store::durable_barrier`] (or its [`Pending::durable`]) first: a crash would
//!   otherwise take back what it said. Mutations are numbered as they begin; the barrier
//!   waits until the flushes have covered the number it reads after the read (a compare when
//!   nothing is unflushed), joining the group commit, and fails with a failed flush.
//! - Mutations are compare-and-swap on the stored bytes: two concurrent writers of one object
//!   cannot both win, and a stale etag never overwrites a newer spec.
//! - Writers that validate against the whole stored state hold [`Store::serialize_writes`]
//!   across their check and the mutation (not the flush), so every check sees every earlier
//!   write; the `*_applied` variants return a [`Pending`] whose `durable()` is the flush.
//! - A failed flush fails the store for good ([`StoreError::Failed`]): the writes it was to
//!   make durable stay in sled's tree (sled refuses every write after an IO error, an undo
//!   too), so nothing is read from the tree again; their writers learn that the outcome is
//!   unknown ([`StoreError::Unflushed`]), and a restart reads what the disk holds.
//! - The store knows nothing of gRPC; callers map [`StoreError`] to status codes.
//! - The directory is the owner's alone (0700, its files 0600): desired state includes
//!   write-only secrets (DH-HMAC-CHAP host secrets of nvmf subsystems).

#[cfg(any(test, feature = "test-hooks"))]
mod hold;
mod record;

use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prost::Message;

#[cfg(any(test, feature = "test-hooks"))]
pub use hold::FlushHold;
pub use record::Record;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error(
        "etag mismatch for {name}: the object was changed since it was read (current etag {current})"
    )]
    EtagMismatch { name: String, current: String },
    #[error("invalid page token")]
    InvalidPageToken,
    #[error("stored record for {0} is corrupt: {1}")]
    Corrupt(String, prost::DecodeError),
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("concurrent modification of {0}; retry")]
    Conflict(String),
    /// A store task ended without finishing (it panicked, or the runtime is shutting down).
    #[error("store task failed: {0}")]
    Task(String),
    /// This write is in the tree but flushing it failed: it may or may not be on disk. The
    /// store has failed ([`StoreError::Failed`]); after a restart it shows which.
    #[error(
        "the write may or may not be stored: flushing the state store failed ({0}); the \
         agent serves no stored state until it restarts, then the object shows whether it is"
    )]
    Unflushed(String),
    /// An earlier flush failed, so the tree may hold writes that are not on disk and never
    /// will be: nothing is read from it or written to it any more (fail-stop, as PostgreSQL
    /// panics on a failed fsync rather than trust its page cache).
    #[error("the state store failed to flush ({0}); restart the agent")]
    Failed(String),
    /// The store opened without writes it had acknowledged (sled recovers what it can read
    /// up to a damaged spot and drops the rest): starting on it would make the services
    /// converge on a fragment of the desired state.
    #[error(
        "the state store in {dir} lost acknowledged writes ({detail}); the disk or file system \
         damaged it: restore the directory from a backup, or move it away to start with an \
         empty store (if an older release of the agent used it since, start the agent once \
         with --recount-store instead)"
    )]
    Lost { dir: String, detail: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// [`StoreError::EtagMismatch`] unless `expected` is the etag of the object `name` as stored
/// (`stored`: its etag, `None` when absent).
pub fn check_etag(name: &str, stored: Option<&str>, expected: &str) -> Result<()> {
    match stored {
        Some(etag) if etag == expected => Ok(()),
        Some(etag) => {
            Err(StoreError::EtagMismatch { name: name.to_owned(), current: etag.to_owned() })
        }
        None => Err(StoreError::EtagMismatch {
            name: name.to_owned(),
            current: format!("(absent; given {expected})"),
        }),
    }
}

/// The database: one sled tree of records keyed by full resource name.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    objects: sled::Tree,
    commit: Arc<GroupCommit>,
    writes: Arc<tokio::sync::Mutex<()>>,
    /// Where the number of the last mutation known to be on disk is kept, outside sled.
    marker: Arc<std::path::PathBuf>,
    /// What [`META`] holds, read without waiting: mutations so far and objects stored.
    counts: Arc<Counts>,
    /// Why the store failed ([`StoreError::Failed`]), once a flush failed.
    failure: Arc<Failure>,
    /// Where tests hold flushes ([`Store::hold_flushes`]).
    #[cfg(any(test, feature = "test-hooks"))]
    gate: Arc<hold::FlushGate>,
}

/// The first failed flush, and a wake-up for whoever waits for it ([`Store::failed`]).
#[derive(Default)]
struct Failure {
    why: std::sync::OnceLock<String>,
    notify: tokio::sync::Notify,
}

/// The store's counts ([`META`]) in memory. `one_swap` makes one compare-and-swap at a
/// time, each followed by its new count; only a swap holding it changes the numbers.
#[derive(Default)]
struct Counts {
    one_swap: std::sync::Mutex<()>,
    seq: AtomicU64,
    objects: AtomicU64,
}

/// Key of the store's own record in the objects tree (no collection name starts with a NUL):
/// the number of mutations so far and of stored objects, written right after every
/// mutation (a crash may come between the two: the last mutation may lack its count).
const META: &[u8] = b"\0meta";

/// The file beside sled's that holds the number of the last mutation flushed.
const MARKER: &str = "durable-writes";

/// (mutations, objects) of a [`META`] record.
fn decode_meta(bytes: &[u8]) -> Option<(u64, u64)> {
    let seq = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let count = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
    Some((seq, count))
}

fn encode_meta(seq: u64, count: u64) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&seq.to_be_bytes());
    out[8..].copy_from_slice(&count.to_be_bytes());
    out
}

/// Creates `dir` (and missing parents) with mode 0700, or sets an existing `dir` to 0700.
fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(sled::Error::Io)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(sled::Error::Io)?;
    Ok(())
}

/// Sets every file under `dir` to 0600 and every directory to 0700 (symlinks untouched).
fn restrict_contents(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).map_err(sled::Error::Io)? {
        let entry = entry.map_err(sled::Error::Io)?;
        let kind = entry.file_type().map_err(sled::Error::Io)?;
        let mode = if kind.is_dir() {
            restrict_contents(&entry.path())?;
            0o700
        } else if kind.is_file() {
            0o600
        } else {
            continue;
        };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode))
            .map_err(sled::Error::Io)?;
    }
    Ok(())
}

/// Records that mutation `seq` is on disk (a new file renamed over the old one, so a reader
/// sees one or the other). Best effort: a marker that stays behind only weakens
/// [`Store::open`]'s check, it never fails a store that is whole.
fn write_marker(path: &Path, seq: u64) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let new = path.with_extension("new");
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&new)
        .and_then(|mut f| f.write_all(format!("{seq}\n").as_bytes()));
    if written.is_ok() {
        let _ = std::fs::rename(&new, path);
    }
}

/// Group commit: writers (and readers, [`Store::durable_barrier`]) that wait while a flush
/// runs share the next one, so N concurrent writes cost about two flushes, not N. Flushes run
/// one at a time on a blocking thread: sled's own `flush_async` deadlocked under concurrent
/// callers, and a flush must never block the reactor.
#[derive(Default)]
struct GroupCommit {
    /// Mutations begun so far. Each is counted before it changes the tree (under
    /// [`Counts::one_swap`]), so a read that saw a mutation finds it counted after the read.
    begun: AtomicU64,
    /// Mutations known to be on disk (a copy of `durable`, read without its lock: a
    /// barrier with nothing unflushed is one compare).
    flushed: AtomicU64,
    /// Mutations known to be on disk; guarded by the lock so one flush runs at a time.
    durable: tokio::sync::Mutex<u64>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, which is created 0700 (an existing one is
    /// set to 0700, and what sled keeps in it to 0600 files and 0700 directories).
    ///
    /// Fails with [`StoreError::Lost`] when the store lacks writes it acknowledged: more
    /// than one object more or fewer than its count, or fewer mutations than were on disk
    /// at the last flush.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_checked(dir, true)
    }

    /// Opens the store in `dir` taking what is there as whole: its count is set to the
    /// objects it holds. For a store an older release of the agent wrote to after this one
    /// (it does not keep the count), never for one [`open`](Self::open) found damaged
    /// without knowing why.
    pub fn open_recounted(dir: &Path) -> Result<Self> {
        Self::open_checked(dir, false)
    }

    fn open_checked(dir: &Path, check: bool) -> Result<Self> {
        private_dir(dir)?;
        let db = sled::Config::new().path(dir).mode(sled::Mode::HighThroughput).open()?;
        let objects = db.open_tree("objects")?;
        let marker = dir.join(MARKER);
        let lost = |detail: String| StoreError::Lost { dir: dir.display().to_string(), detail };
        let mut stored = 0u64;
        for key in objects.iter().keys() {
            stored += u64::from(key? != META);
        }
        let meta = objects.get(META)?;
        let flushed =
            std::fs::read_to_string(&marker).ok().and_then(|t| t.trim().parse::<u64>().ok());
        let counted = match (meta.as_deref().map(decode_meta), flushed) {
            _ if !check => None,
            (Some(Some((seq, count))), flushed) => {
                // One off: a crash came between the last mutation and its count. The
                // marker may be missing (it is not synced): the count alone is checked then.
                if count.abs_diff(stored) > 1 {
                    return Err(lost(format!("it holds {stored} objects of {count}")));
                }
                if let Some(flushed) = flushed.filter(|f| *f > seq) {
                    return Err(lost(format!(
                        "it holds {seq} writes of the {flushed} that were on disk"
                    )));
                }
                (count == stored).then_some(seq)
            }
            (Some(None), _) => return Err(lost("its count of writes is unreadable".into())),
            (None, Some(flushed)) if flushed > 0 => {
                return Err(lost(format!("it holds none of the {flushed} writes on disk")));
            }
            // A new store, or one an older version wrote (no count, no marker): count what
            // is there.
            (None, _) => None,
        };
        let seq = match counted {
            Some(seq) => seq,
            None => {
                let seq = meta.as_deref().and_then(decode_meta).map_or(0, |(seq, _)| seq);
                objects.insert(META, &encode_meta(seq, stored))?;
                db.flush()?;
                if !check {
                    write_marker(&marker, seq);
                }
                seq
            }
        };
        // Files sled creates later (snapshots, blobs) get the umask's mode, inside a
        // directory no one else may enter.
        restrict_contents(dir)?;
        Ok(Self {
            db,
            objects,
            commit: Arc::default(),
            writes: Arc::default(),
            marker: Arc::new(marker),
            counts: Arc::new(Counts {
                one_swap: std::sync::Mutex::default(),
                seq: AtomicU64::new(seq),
                objects: AtomicU64::new(stored),
            }),
            failure: Arc::default(),
            #[cfg(any(test, feature = "test-hooks"))]
            gate: Arc::default(),
        })
    }

    /// Test hook: every flush that starts from now on waits (holding the group commit, as a
    /// slow fsync does) until the returned hold is released or dropped, or fails as a
    /// failed fsync would if the hold says so.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn hold_flushes(&self) -> FlushHold {
        FlushHold::new(self.gate.clone())
    }

    /// `Err(Failed)` once a flush failed: the tree may hold writes the disk does not, which
    /// no reader (a Get, the reconcilers) may take for stored state.
    fn usable(&self) -> Result<()> {
        match self.failure.why.get() {
            Some(why) => Err(StoreError::Failed(why.clone())),
            None => Ok(()),
        }
    }

    /// Marks the store failed for `why` (the first reason stays), which it returns.
    fn fail(&self, why: String) -> String {
        let _ = self.failure.why.set(why);
        self.failure.notify.notify_waiters();
        self.failure.why.get().cloned().unwrap_or_default()
    }

    /// Resolves once a flush failed, with why: from then on the store serves nothing
    /// ([`StoreError::Failed`]), and only a new process, opening what is on disk, can serve
    /// again.
    pub async fn failed(&self) -> String {
        loop {
            let notified = self.failure.notify.notified();
            if let Some(why) = self.failure.why.get() {
                return why.clone();
            }
            notified.await;
        }
    }

    /// A typed view of one collection, e.g. `store.collection::<SysctlSpec>("sysctls")`.
    pub fn collection<S: Message + Default>(&self, name: &'static str) -> Collection<S> {
        Collection { store: self.clone(), prefix: name, _spec: PhantomData }
    }

    /// Number of stored objects of every collection.
    pub fn len(&self) -> usize {
        usize::try_from(self.counts.objects.load(Ordering::SeqCst)).unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The store's revision: how many mutations changed it, counted across restarts (the
    /// count [`META`] keeps), so it only grows. Every mutation numbered up to it is in the
    /// tree when this returns (the number moves once the record is there): a snapshot read
    /// after it holds them all. A caller compares it with the revision a later snapshot was
    /// read at to know whether that snapshot holds a given write.
    pub fn revision(&self) -> u64 {
        self.counts.seq.load(Ordering::SeqCst)
    }

    /// One writer at a time from the guard's creation to its drop. A caller that checks a write
    /// against the whole stored state (references, a configuration valid as a whole) holds it
    /// across the check and the `*_applied` mutation, then awaits [`Pending::durable`] after
    /// dropping it, so concurrent writers still share flushes. The mutation's compare-and-swap
    /// runs on a blocking thread and completes even if its future is dropped: keep the guard
    /// until the mutation returned (e.g. hold both in a spawned task), not merely in the
    /// future that may be cancelled.
    pub async fn serialize_writes(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.writes.clone().lock_owned().await
    }

    /// Waits until every mutation a read of the tree made before this call could have seen
    /// is on disk, flushing (group commit) if none is under way that covers them: an
    /// answer built on a read must not outlive a crash that takes back what it showed.
    /// [`StoreError::Failed`] when a flush failed first. With nothing unflushed it is one
    /// compare.
    pub async fn durable_barrier(&self) -> Result<()> {
        let through = self.commit.begun.load(Ordering::SeqCst);
        self.flushed_through(through).await.map_err(StoreError::Failed)
    }

    /// The number that covers what reads so far could see, for a [`Pending`].
    fn pending<T>(&self, value: T, wrote: bool) -> Pending<T> {
        let through = self.commit.begun.load(Ordering::SeqCst);
        let revision = wrote.then(|| self.revision());
        Pending { store: self.clone(), value, through, wrote, revision }
    }

    /// Returns once mutations `1..=through` are on disk: at once if a flush covered them,
    /// else after the next flush, which this call runs unless another caller's does (they
    /// share it). `Err(why)` when a flush failed before covering them.
    async fn flushed_through(&self, through: u64) -> Result<(), String> {
        if self.commit.flushed.load(Ordering::SeqCst) >= through {
            return Ok(());
        }
        let mut durable = self.commit.durable.lock().await;
        if *durable >= through {
            // A flush that started after these mutations already covered them.
            return Ok(());
        }
        if let Some(why) = self.failure.why.get() {
            // In the tree, and no flush will cover them: they may be on disk or not.
            return Err(why.clone());
        }
        #[cfg(any(test, feature = "test-hooks"))]
        if let Err(why) = self.gate.pass().await {
            return Err(self.fail(why));
        }
        let (db, marker) = (self.db.clone(), self.marker.clone());
        let (counts, commit) = (self.counts.clone(), self.commit.clone());
        let flushed = tokio::task::spawn_blocking(move || {
            // With no swap under way every mutation counted is in the tree, so the flush
            // covers them all (`through` among them: it was counted before).
            let (target, seq) = {
                let _one =
                    counts.one_swap.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                (commit.begun.load(Ordering::SeqCst), counts.seq.load(Ordering::SeqCst))
            };
            db.flush()?;
            write_marker(&marker, seq);
            Ok::<_, sled::Error>(target)
        })
        .await;
        // The writes are in the tree and sled's error is sticky (it refuses every later
        // write, so none can be undone): readers must not see them as stored.
        let target = match flushed {
            Ok(Ok(target)) => target,
            Ok(Err(e)) => return Err(self.fail(e.to_string())),
            Err(e) => return Err(self.fail(format!("flush task failed: {e}"))),
        };
        *durable = target;
        self.commit.flushed.store(target, Ordering::SeqCst);
        Ok(())
    }

    /// Runs a sled operation on a blocking thread: sled may wait for its IO buffers.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&sled::Tree) -> T + Send + 'static,
    ) -> Result<T> {
        let tree = self.objects.clone();
        tokio::task::spawn_blocking(move || f(&tree))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))
    }
}

/// The result of a write, built on the tree, which may hold it (or what it read) before the
/// disk does.
#[must_use = "a write is acknowledged only after durable()"]
pub struct Pending<T> {
    store: Store,
    value: T,
    /// The mutations it may have seen or made ([`Store::flushed_through`]).
    through: u64,
    /// Whether it changed the tree (else it only read: an unchanged spec, a missing object).
    wrote: bool,
    /// [`Store::revision`] once it was in the tree, if it changed it.
    revision: Option<u64>,
}

impl<T> Pending<T> {
    /// The store's revision once this write was in the tree, if it changed the store: its
    /// own number, or a later one where another mutation landed in between (none can under
    /// [`Store::serialize_writes`]). Known before the write is on disk.
    pub fn revision(&self) -> Option<u64> {
        self.revision
    }

    /// Waits until the mutation, and every one it saw, is on disk (group commit), then
    /// yields its result. A failed flush is [`StoreError::Unflushed`] for a write that
    /// changed the tree (it may be stored or not) and [`StoreError::Failed`] for one that
    /// changed nothing (it only read what may now never be stored).
    pub async fn durable(self) -> Result<T> {
        match self.store.flushed_through(self.through).await {
            Ok(()) => Ok(self.value),
            Err(why) if self.wrote => Err(StoreError::Unflushed(why)),
            Err(why) => Err(StoreError::Failed(why)),
        }
    }
}

/// One collection of resources whose spec is the protobuf message `S`.
pub struct Collection<S> {
    store: Store,
    prefix: &'static str,
    _spec: PhantomData<fn() -> S>,
}

impl<S> Clone for Collection<S> {
    fn clone(&self) -> Self {
        Self { store: self.store.clone(), prefix: self.prefix, _spec: PhantomData }
    }
}

/// A stored object with its decoded spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<S> {
    /// Full resource name, `collection/id`.
    pub name: String,
    pub spec: S,
    pub generation: i64,
    pub etag: String,
    pub create_time_unix_nanos: i64,
    pub update_time_unix_nanos: i64,
}

/// One page of a listing.
#[derive(Debug)]
pub struct Page<S> {
    pub objects: Vec<Object<S>>,
    /// Empty when this was the last page.
    pub next_page_token: String,
}

impl<S: Message + Default> Collection<S> {
    pub fn collection_name(&self) -> &'static str {
        self.prefix
    }

    /// [`Store::serialize_writes`] of the store this collection lives in.
    pub async fn serialize_writes(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.store.serialize_writes().await
    }

    /// [`Store::durable_barrier`] of the store this collection lives in: after a read
    /// ([`get`](Self::get), [`list`](Self::list), [`all`](Self::all)), before answering
    /// from it.
    pub async fn durable_barrier(&self) -> Result<()> {
        self.store.durable_barrier().await
    }

    /// [`Store::revision`] of the store this collection lives in.
    pub fn revision(&self) -> u64 {
        self.store.revision()
    }

    /// The full name `collection/id`.
    pub fn full_name(&self, id: &str) -> String {
        format!("{}/{}", self.prefix, id)
    }

    fn decode(&self, name: &str, bytes: &[u8]) -> Result<Object<S>> {
        let rec = Record::decode(bytes).map_err(|e| StoreError::Corrupt(name.to_owned(), e))?;
        let spec =
            S::decode(rec.spec.as_slice()).map_err(|e| StoreError::Corrupt(name.to_owned(), e))?;
        Ok(Object {
            name: name.to_owned(),
            spec,
            generation: rec.generation,
            etag: rec.etag(),
            create_time_unix_nanos: rec.create_time_unix_nanos,
            update_time_unix_nanos: rec.update_time_unix_nanos,
        })
    }

    /// The object `name` as the tree holds it, which may be a write not on disk yet: an
    /// answer built on it awaits [`durable_barrier`](Self::durable_barrier) first (a check
    /// under the writer lock need not: the write's own [`Pending::durable`] covers it).
    pub fn get(&self, name: &str) -> Result<Option<Object<S>>> {
        self.store.usable()?;
        match self.store.objects.get(name.as_bytes())? {
            Some(bytes) => Ok(Some(self.decode(name, &bytes)?)),
            None => Ok(None),
        }
    }

    async fn read(&self, name: &str) -> Result<Option<sled::IVec>> {
        self.store.usable()?;
        let key = name.as_bytes().to_vec();
        self.store.blocking(move |tree| tree.get(key)).await?.map_err(StoreError::from)
    }

    /// Compare-and-swap off the reactor; false when the stored value was not `old`. The
    /// object changes, then the store's count of mutations and objects ([`META`]), which
    /// [`Store::open`] checks; the count's lock makes one swap at a time, so a crash leaves
    /// at most the last one without its count. (As one sled batch the two cost three
    /// times the write rate: sled makes a batch stable on its own.)
    async fn swap(
        &self,
        name: &str,
        old: Option<sled::IVec>,
        new: Option<Vec<u8>>,
    ) -> Result<bool> {
        self.store.usable()?;
        let key = name.as_bytes().to_vec();
        let (counts, commit) = (self.store.counts.clone(), self.store.commit.clone());
        let swapped = self
            .store
            .blocking(move |tree| {
                let _one =
                    counts.one_swap.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let current = tree.get(&key)?;
                if current != old {
                    return Ok(false);
                }
                // Counted before a reader can see it: a barrier after the read covers it.
                commit.begun.fetch_add(1, Ordering::SeqCst);
                let seq = counts.seq.load(Ordering::SeqCst) + 1;
                let objects = counts.objects.load(Ordering::SeqCst);
                let objects = match (&current, &new) {
                    (None, Some(_)) => objects + 1,
                    (Some(_), None) => objects.saturating_sub(1),
                    _ => objects,
                };
                match new {
                    Some(bytes) => drop(tree.insert(key, bytes)?),
                    None => drop(tree.remove(key)?),
                }
                // The tree changed: the object count says so even if writing it fails (the
                // next swap writes it), so it never drifts from what is stored. The
                // mutation number moves once its record is in the tree, as a flush's
                // marker must not name one the flush may miss. The swap happened either
                // way: the flush that follows tells whether it is stored (a failed insert
                // is sled's I/O error, which is sticky, so that flush fails too).
                counts.objects.store(objects, Ordering::SeqCst);
                if tree.insert(META, &encode_meta(seq, objects)).is_ok() {
                    counts.seq.store(seq, Ordering::SeqCst);
                }
                Ok::<_, sled::Error>(true)
            })
            .await??;
        Ok(swapped)
    }

    /// Creates `name` with generation 1; fails if it exists.
    pub async fn create(&self, name: &str, spec: &S) -> Result<Object<S>> {
        self.create_applied(name, spec).await?.durable().await
    }

    /// [`create`](Self::create) without waiting for the disk.
    pub async fn create_applied(&self, name: &str, spec: &S) -> Result<Pending<Object<S>>> {
        let rec = Record::new(spec.encode_to_vec());
        let bytes = rec.encode_to_vec();
        if !self.swap(name, None, Some(bytes.clone())).await? {
            return Err(StoreError::AlreadyExists(name.to_owned()));
        }
        Ok(self.store.pending(self.decode(name, &bytes)?, true))
    }

    /// Replaces the spec of `name` with `update(old_spec)`.
    ///
    /// With `expected_etag`, the stored etag must match. A spec equal to the stored one changes
    /// nothing (generation and etag stay), which keeps declarative apply idempotent. With
    /// `create_missing`, an absent object is created instead of `NotFound`.
    pub async fn update(
        &self,
        name: &str,
        expected_etag: Option<&str>,
        create_missing: bool,
        update: impl Fn(S) -> S + Send,
    ) -> Result<Object<S>> {
        self.update_applied(name, expected_etag, create_missing, update).await?.durable().await
    }

    /// [`update`](Self::update) without waiting for the disk.
    pub async fn update_applied(
        &self,
        name: &str,
        expected_etag: Option<&str>,
        create_missing: bool,
        update: impl Fn(S) -> S + Send,
    ) -> Result<Pending<Object<S>>> {
        // A bounded retry loop: compare-and-swap fails only under a concurrent write.
        for _ in 0..16 {
            let current = self.read(name).await?;
            let Some(current) = current else {
                if let Some(etag) = expected_etag {
                    check_etag(name, None, etag)?;
                }
                if !create_missing {
                    return Err(StoreError::NotFound(name.to_owned()));
                }
                match self.create_applied(name, &update(S::default())).await {
                    Err(StoreError::AlreadyExists(_)) => continue,
                    other => return other,
                }
            };
            let old = Record::decode(current.as_ref())
                .map_err(|e| StoreError::Corrupt(name.to_owned(), e))?;
            if let Some(etag) = expected_etag {
                check_etag(name, Some(&old.etag()), etag)?;
            }
            let old_spec = S::decode(old.spec.as_slice())
                .map_err(|e| StoreError::Corrupt(name.to_owned(), e))?;
            let new_spec = update(old_spec).encode_to_vec();
            if new_spec == old.spec {
                return Ok(self.store.pending(self.decode(name, &current)?, false));
            }
            let bytes = old.next(new_spec).encode_to_vec();
            if self.swap(name, Some(current), Some(bytes.clone())).await? {
                return Ok(self.store.pending(self.decode(name, &bytes)?, true));
            }
        }
        Err(StoreError::Conflict(name.to_owned()))
    }

    /// Deletes `name`. Returns whether it existed.
    pub async fn delete(&self, name: &str, expected_etag: Option<&str>) -> Result<bool> {
        self.delete_applied(name, expected_etag).await?.durable().await
    }

    /// [`delete`](Self::delete) without waiting for the disk.
    pub async fn delete_applied(
        &self,
        name: &str,
        expected_etag: Option<&str>,
    ) -> Result<Pending<bool>> {
        for _ in 0..16 {
            let Some(current) = self.read(name).await? else {
                return Ok(self.store.pending(false, false));
            };
            if let Some(etag) = expected_etag {
                let old = Record::decode(current.as_ref())
                    .map_err(|e| StoreError::Corrupt(name.to_owned(), e))?;
                check_etag(name, Some(&old.etag()), etag)?;
            }
            if self.swap(name, Some(current), None).await? {
                return Ok(self.store.pending(true, true));
            }
        }
        Err(StoreError::Conflict(name.to_owned()))
    }

    /// Objects of this collection in name order, starting after the page token: at most
    /// `page_size` of them (bounded in bytes too by [`list_within`](Self::list_within)). As
    /// the tree holds them, as [`get`](Self::get) reads.
    pub fn list(&self, page_size: usize, page_token: &str) -> Result<Page<S>> {
        self.list_under("", page_size, page_token)
    }

    /// Like [`list`](Self::list), limited to the objects whose id starts with `id_prefix`
    /// (e.g. `"s1/"` for the children of `s1`). A page token is valid only for the same prefix.
    pub fn list_under(
        &self,
        id_prefix: &str,
        page_size: usize,
        page_token: &str,
    ) -> Result<Page<S>> {
        self.list_within(id_prefix, page_size, usize::MAX, page_token)
    }

    /// [`list_under`](Self::list_under) with a page bounded by `max_bytes` of stored records
    /// as well: the page ends after the object that reaches it (the first object is always
    /// included, so paging always advances), so a page may hold fewer than `page_size`; only
    /// an empty `next_page_token` means the last page.
    pub fn list_within(
        &self,
        id_prefix: &str,
        page_size: usize,
        max_bytes: usize,
        page_token: &str,
    ) -> Result<Page<S>> {
        self.store.usable()?;
        let prefix = format!("{}/{}", self.prefix, id_prefix);
        let start = if page_token.is_empty() {
            prefix.clone().into_bytes()
        } else {
            let after = token_key(page_token, &prefix).ok_or(StoreError::InvalidPageToken)?;
            // The smallest key strictly greater than `after`.
            let mut key = after;
            key.push(0);
            key
        };
        let mut objects = Vec::new();
        let mut last_key = None;
        let mut more = false;
        let mut bytes = 0usize;
        for item in self.store.objects.range(start..) {
            let (key, value) = item?;
            if !key.starts_with(prefix.as_bytes()) {
                break;
            }
            if objects.len() == page_size || (!objects.is_empty() && bytes >= max_bytes) {
                more = true;
                break;
            }
            let name = String::from_utf8_lossy(&key).into_owned();
            objects.push(self.decode(&name, &value)?);
            bytes = bytes.saturating_add(key.len() + value.len());
            last_key = Some(key);
        }
        let next_page_token = match (more, last_key) {
            (true, Some(key)) => format!("{}.{}", hex::encode(key), prefix.len()),
            _ => String::new(),
        };
        Ok(Page { objects, next_page_token })
    }

    /// Every object of this collection (for reconciliation), as the tree holds them, as
    /// [`get`](Self::get) reads: a sync sends them after
    /// [`durable_barrier`](Self::durable_barrier).
    pub fn all(&self) -> Result<Vec<Object<S>>> {
        self.store.usable()?;
        let prefix = format!("{}/", self.prefix);
        self.store
            .objects
            .scan_prefix(prefix.as_bytes())
            .map(|item| {
                let (key, value) = item?;
                self.decode(&String::from_utf8_lossy(&key), &value)
            })
            .collect()
    }
}

/// The last key of the page a token ends, if the token is one [`Collection::list_within`]
/// gave for a listing of `prefix`: the key and the length of the prefix listed, so a token
/// of a listing of one parent's children (or of all of them) is refused for another (AIP-158:
/// a token is valid only with the request that got it, `page_size` aside).
fn token_key(token: &str, prefix: &str) -> Option<Vec<u8>> {
    let (key, listed) = token.rsplit_once('.')?;
    let key = hex::decode(key).ok()?;
    (listed.parse() == Ok(prefix.len()) && key.starts_with(prefix.as_bytes())).then_some(key)
}

#[cfg(test)]
mod tests;
