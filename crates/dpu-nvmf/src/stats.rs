//! Per-subsystem and per-queue counters.
//!
//! Every connected queue owns a [`QueueStats`]: only its connection task writes it,
//! so a count is a relaxed load and store (no locked read-modify-write, no lock, no
//! allocation per command), while any thread may read it. The queue registers it
//! with its subsystem's [`SubsystemStats`] when its Connect succeeds; when the queue
//! goes away its [`QueueRegistration`] folds the final counts into the subsystem's
//! totals, so those survive controllers coming and going.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

/// Adds `n` to a counter that only one thread writes (a plain load and store: the
/// single writer never races with itself, and readers see whole values).
fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
}

/// What a queue is, fixed when its Connect succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueInfo {
    /// Controller ID.
    pub cntlid: u16,
    /// Its controller's serial, unique in the target: a CNTLID goes to a new controller
    /// as soon as the one that had it ends, while that one's queues may still be closing.
    pub controller: u64,
    /// Queue ID: 0 is the admin queue, 1.. are I/O queues.
    pub qid: u16,
    /// Submission queue entries (Connect SQSIZE is 0's based: this is SQSIZE + 1).
    pub sq_size: u32,
    /// Header digest negotiated in ICReq/ICResp.
    pub hdgst: bool,
    /// Data digest negotiated in ICReq/ICResp.
    pub ddgst: bool,
    /// The host's end of the queue's TCP connection, when the shell knows it.
    pub peer: Option<SocketAddr>,
}

/// Counters of one queue, written only by its connection task.
#[derive(Debug)]
pub struct QueueStats {
    info: QueueInfo,
    submitted: AtomicU64,
    completed: AtomicU64,
    reads: AtomicU64,
    writes: AtomicU64,
    read_bytes: AtomicU64,
    write_bytes: AtomicU64,
    compares: AtomicU64,
    compare_bytes: AtomicU64,
    errors: AtomicU64,
}

impl QueueStats {
    /// Counters of a queue whose Connect just succeeded: that Connect is its first
    /// command (submitted, its completion not yet sent).
    pub fn new(info: QueueInfo) -> Self {
        Self {
            info,
            submitted: AtomicU64::new(1),
            completed: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            read_bytes: AtomicU64::new(0),
            write_bytes: AtomicU64::new(0),
            compares: AtomicU64::new(0),
            compare_bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    /// A command capsule arrived.
    pub fn submitted(&self) {
        bump(&self.submitted, 1);
    }

    /// A completion was sent (response capsule or C2HData SUCCESS flag).
    pub fn completed(&self, success: bool) {
        bump(&self.completed, 1);
        if !success {
            bump(&self.errors, 1);
        }
    }

    /// A Read completed successfully with `bytes` of data.
    pub fn read(&self, bytes: u64) {
        bump(&self.reads, 1);
        bump(&self.read_bytes, bytes);
    }

    /// A Write completed successfully with `bytes` of data.
    pub fn written(&self, bytes: u64) {
        bump(&self.writes, 1);
        bump(&self.write_bytes, bytes);
    }

    /// A Compare read `bytes` from its volume (matching or not).
    pub fn compared(&self, bytes: u64) {
        bump(&self.compares, 1);
        bump(&self.compare_bytes, bytes);
    }

    /// The queue's identity.
    pub fn info(&self) -> &QueueInfo {
        &self.info
    }

    /// Reads the counters.
    pub fn snapshot(&self) -> QueueCounters {
        let io = self.io();
        QueueCounters {
            info: self.info.clone(),
            io,
            // Relaxed loads of two counters may see a completion before its
            // submission: never report a negative number.
            in_flight: self.submitted.load(Relaxed).saturating_sub(io.commands),
        }
    }

    /// Reads the command and data counts.
    fn io(&self) -> IoTotals {
        IoTotals {
            commands: self.completed.load(Relaxed),
            reads: self.reads.load(Relaxed),
            writes: self.writes.load(Relaxed),
            read_bytes: self.read_bytes.load(Relaxed),
            write_bytes: self.write_bytes.load(Relaxed),
            compares: self.compares.load(Relaxed),
            compare_bytes: self.compare_bytes.load(Relaxed),
            errors: self.errors.load(Relaxed),
        }
    }
}

/// Command and data totals (of a queue, or of a subsystem's queues past and present).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoTotals {
    /// Commands completed (admin, fabrics and I/O; the AERs a controller reset ends
    /// without a completion count too).
    pub commands: u64,
    /// Read commands completed successfully.
    pub reads: u64,
    /// Write commands completed successfully.
    pub writes: u64,
    /// Bytes read.
    pub read_bytes: u64,
    /// Bytes written.
    pub write_bytes: u64,
    /// Compare commands whose blocks were read (a match or a miscompare): not in
    /// `reads`, but SMART's Host Read Commands count them.
    pub compares: u64,
    /// Bytes those Compares read (in SMART's Data Units Read).
    pub compare_bytes: u64,
    /// Completions with an error status.
    pub errors: u64,
}

impl IoTotals {
    fn add(&mut self, o: &IoTotals) {
        self.commands += o.commands;
        self.reads += o.reads;
        self.writes += o.writes;
        self.read_bytes += o.read_bytes;
        self.write_bytes += o.write_bytes;
        self.compares += o.compares;
        self.compare_bytes += o.compare_bytes;
        self.errors += o.errors;
    }
}

/// A snapshot of one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCounters {
    /// What the queue is.
    pub info: QueueInfo,
    /// Its counts.
    pub io: IoTotals,
    /// Commands submitted and not yet completed (outstanding AERs included).
    pub in_flight: u64,
}

#[derive(Debug, Default)]
struct QueueSet {
    live: Vec<Arc<QueueStats>>,
    /// Totals of the queues that are gone.
    retired: IoTotals,
}

/// Counters of one subsystem. Its lock is taken only when a queue connects or goes
/// away and when the counters are read.
#[derive(Debug, Default)]
pub struct SubsystemStats {
    connects_accepted: AtomicU64,
    connects_refused: AtomicU64,
    queues: Mutex<QueueSet>,
}

/// A snapshot of a subsystem's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubsystemCounters {
    /// Successful Connect commands (admin and I/O queues).
    pub connects_accepted: u64,
    /// Connect commands naming this subsystem that were refused.
    pub connects_refused: u64,
    /// Totals of every queue the subsystem had, live and gone.
    pub io: IoTotals,
    /// The live queues, by (CNTLID, controller serial, QID).
    pub queues: Vec<QueueCounters>,
}

impl SubsystemStats {
    fn set(&self) -> MutexGuard<'_, QueueSet> {
        // A poisoned lock is recovered: every update leaves the set consistent.
        self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a refused Connect.
    pub fn connect_refused(&self) {
        self.connects_refused.fetch_add(1, Relaxed);
    }

    /// Registers a queue whose Connect succeeded; its counts stay in the subsystem's
    /// totals after the returned registration is dropped.
    pub fn register(self: &Arc<Self>, info: QueueInfo) -> QueueRegistration {
        self.connects_accepted.fetch_add(1, Relaxed);
        let queue = Arc::new(QueueStats::new(info));
        self.set().live.push(queue.clone());
        QueueRegistration { queue, owner: self.clone() }
    }

    /// The totals of [`snapshot`](Self::snapshot) alone, summed under the lock without
    /// copying or sorting the live queues (a SMART log read needs no more).
    pub fn totals(&self) -> IoTotals {
        let set = self.set();
        let mut io = set.retired;
        for q in &set.live {
            io.add(&q.io());
        }
        io
    }

    /// Reads the counters.
    pub fn snapshot(&self) -> SubsystemCounters {
        let set = self.set();
        let mut io = set.retired;
        let mut queues: Vec<QueueCounters> = set.live.iter().map(|q| q.snapshot()).collect();
        drop(set);
        for q in &queues {
            io.add(&q.io);
        }
        queues.sort_by_key(|q| (q.info.cntlid, q.info.controller, q.info.qid));
        SubsystemCounters {
            connects_accepted: self.connects_accepted.load(Relaxed),
            connects_refused: self.connects_refused.load(Relaxed),
            io,
            queues,
        }
    }
}

/// A queue's counters while it is connected; dropping it moves the final counts
/// into the subsystem's totals.
#[derive(Debug)]
pub struct QueueRegistration {
    queue: Arc<QueueStats>,
    owner: Arc<SubsystemStats>,
}

impl std::ops::Deref for QueueRegistration {
    type Target = QueueStats;
    fn deref(&self) -> &QueueStats {
        &self.queue
    }
}

impl Drop for QueueRegistration {
    fn drop(&mut self) {
        let mut set = self.owner.set();
        if let Some(i) = set.live.iter().position(|q| Arc::ptr_eq(q, &self.queue)) {
            set.live.swap_remove(i);
            let last = self.queue.io();
            set.retired.add(&last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(cntlid: u16, qid: u16) -> QueueInfo {
        let controller = u64::from(cntlid);
        QueueInfo { cntlid, controller, qid, sq_size: 32, hdgst: false, ddgst: true, peer: None }
    }

    #[test]
    fn queue_counts_and_in_flight() {
        let s = Arc::new(SubsystemStats::default());
        let q = s.register(info(1, 1));
        // The Connect is outstanding until its completion is sent.
        assert_eq!(q.snapshot().in_flight, 1);
        q.completed(true);
        for _ in 0..3 {
            q.submitted();
        }
        q.read(4096);
        q.completed(true);
        q.written(512);
        q.completed(true);
        q.completed(false);
        let c = q.snapshot();
        assert_eq!(c.in_flight, 0);
        assert_eq!(
            c.io,
            IoTotals {
                commands: 4,
                reads: 1,
                writes: 1,
                read_bytes: 4096,
                write_bytes: 512,
                compares: 0,
                compare_bytes: 0,
                errors: 1
            }
        );
        q.submitted();
        assert_eq!(q.snapshot().in_flight, 1);
    }

    /// The totals a SMART log read takes are the snapshot's, live and gone queues alike.
    #[test]
    fn totals_are_the_snapshots_io() {
        let s = Arc::new(SubsystemStats::default());
        let a = s.register(info(1, 0));
        let b = s.register(info(1, 1));
        a.completed(true);
        b.read(4096);
        b.completed(true);
        b.written(512);
        b.completed(false);
        b.compared(1024);
        assert_eq!(s.totals(), s.snapshot().io);
        assert_eq!((s.totals().commands, s.totals().compare_bytes), (3, 1024));
        drop(b);
        a.completed(true);
        assert_eq!(s.totals(), s.snapshot().io);
        assert_eq!((s.totals().commands, s.totals().read_bytes), (4, 4096));
    }

    #[test]
    fn gone_queues_stay_in_the_totals() {
        let s = Arc::new(SubsystemStats::default());
        let a = s.register(info(2, 0));
        let b = s.register(info(1, 1));
        a.completed(true);
        b.completed(true);
        b.read(100);
        s.connect_refused();
        let snap = s.snapshot();
        assert_eq!(snap.connects_accepted, 2);
        assert_eq!(snap.connects_refused, 1);
        assert_eq!(snap.io.commands, 2);
        // Sorted by (CNTLID, QID).
        let ids: Vec<_> = snap.queues.iter().map(|q| (q.info.cntlid, q.info.qid)).collect();
        assert_eq!(ids, vec![(1, 1), (2, 0)]);
        drop(b);
        let snap = s.snapshot();
        assert_eq!(snap.queues.len(), 1);
        assert_eq!(snap.io.commands, 2);
        assert_eq!(snap.io.read_bytes, 100);
        drop(a);
        let snap = s.snapshot();
        assert!(snap.queues.is_empty());
        assert_eq!(snap.io.commands, 2);
    }
}
