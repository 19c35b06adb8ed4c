//! Giving the memory of closed connections back to the system. glibc keeps what a
//! connection freed in its arenas for the next allocation and returns it only from the top
//! of the main heap: after a storm of connections that came and went (hosts reconnecting
//! at once, a crowd of controllers whose keep-alive expired) a service would keep its peak
//! resident set for good, although nothing leaks. [`TrimPolicy`] decides, without I/O,
//! when the open connections have fallen far enough from their peak that asking glibc for
//! it (`malloc_trim`, [`release_free_memory`]) is worth its cost; the shell
//! (`server::Trimmer`) counts the connections and runs the trim on a blocking thread.
#![allow(unsafe_code)]

use std::time::{Duration, Instant};

/// Connections that must have closed since the peak before a trim: about what one Linux
/// host's controller opens (an admin queue and an I/O queue per CPU), so a host's
/// controller reconnecting does not trim, while a crowd of hosts leaving does. Each
/// connected I/O queue holds up to 256 KiB of receive room, so 64 of them free megabytes.
pub(crate) const TRIM_FALL: usize = 64;

/// The shortest time between two trims. `malloc_trim` walks every arena, holding each
/// one's lock meanwhile, so other threads' allocations from it wait: 3-20 ms after a storm
/// of 1,024 connections on a loaded 2-core machine, noise at most once a second and only
/// after such a fall.
pub(crate) const TRIM_EVERY: Duration = Duration::from_secs(1);

/// When freed connection memory should go back to the system: once the connections open
/// have fallen to at most half their peak and by at least [`TRIM_FALL`], at most once per
/// [`TRIM_EVERY`]. A trim due sooner than that waits for it rather than being skipped, so
/// the tail of a storm is given back too; each trim starts a new peak from the
/// connections open as it starts. Half, not any fall: while most of the peak's connections
/// still live, what the others freed lies between their memory and a trim returns little
/// for its cost (a third of a storm's rise with 45% still open, measured).
#[derive(Debug, Default)]
pub(crate) struct TrimPolicy {
    /// Connections open now.
    live: usize,
    /// The most open at once since the last trim.
    peak: usize,
    /// When the last trim ran.
    last: Option<Instant>,
    /// A trim is due and has not run yet.
    pending: bool,
}

impl TrimPolicy {
    /// A connection was accepted.
    pub(crate) fn opened(&mut self) {
        self.live += 1;
        self.peak = self.peak.max(self.live);
    }

    /// A connection closed at `now`: when a trim should run, if one became due (then the
    /// caller runs it between [`starting`](Self::starting) and [`trimmed`](Self::trimmed)).
    pub(crate) fn closed(&mut self, now: Instant) -> Option<Instant> {
        self.live = self.live.saturating_sub(1);
        if self.pending { None } else { self.due(now) }
    }

    /// The trim asked for starts: it gives back what the connections closed so far freed,
    /// so the fall that asks for the next one is counted from those open now.
    pub(crate) fn starting(&mut self) {
        self.peak = self.live;
    }

    /// The trim ran, finishing at `now`: when the next one should run, if connections
    /// that closed while it ran made one due already.
    pub(crate) fn trimmed(&mut self, now: Instant) -> Option<Instant> {
        self.pending = false;
        self.last = Some(now);
        self.due(now)
    }

    /// When a trim should run, if the connections fell far enough from their peak; it is
    /// then pending until [`trimmed`](Self::trimmed).
    fn due(&mut self, now: Instant) -> Option<Instant> {
        let fell = self.peak.saturating_sub(self.live) >= TRIM_FALL && self.live <= self.peak / 2;
        if !fell {
            return None;
        }
        self.pending = true;
        Some(self.last.map_or(now, |last| now.max(last + TRIM_EVERY)))
    }

    /// Connections open now.
    pub(crate) fn live(&self) -> usize {
        self.live
    }
}

/// Asks the allocator to give the memory it holds free back to the system; whether any
/// went back. Only glibc on Linux is asked (`malloc_trim(3)`); elsewhere it does nothing.
/// Blocking: it walks every arena, so it runs on a blocking thread, never the reactor.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn release_free_memory() -> bool {
    // SAFETY: malloc_trim has no preconditions: it takes each arena's lock itself, and a
    // pad of 0 keeps nothing beyond what the heap needs. (nix re-exports the libc crate.)
    unsafe { nix::libc::malloc_trim(0) == 1 }
}

/// Asks the allocator to give the memory it holds free back to the system; whether any
/// went back. Only glibc on Linux is asked (`malloc_trim(3)`); elsewhere it does nothing.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_memory() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A policy with `n` connections opened.
    fn with_open(n: usize) -> TrimPolicy {
        let mut p = TrimPolicy::default();
        for _ in 0..n {
            p.opened();
        }
        p
    }

    /// Closes `n` connections at `now`; the last trim asked for, if any.
    fn close(p: &mut TrimPolicy, n: usize, now: Instant) -> Option<Instant> {
        (0..n).filter_map(|_| p.closed(now)).last()
    }

    /// 1,000 connections going down to none ask for one trim, when half of them are gone,
    /// at once: the first since the start.
    #[test]
    fn a_fall_to_half_the_peak_asks_for_a_trim_at_once() {
        let now = Instant::now();
        let mut p = with_open(1000);
        assert_eq!(close(&mut p, 499, now), None, "more than half still open");
        assert_eq!(p.closed(now), Some(now), "half of the peak");
        assert_eq!(p.live(), 500);
        assert_eq!(close(&mut p, 500, now), None, "one trim is due already");
    }

    /// A fall of fewer than TRIM_FALL connections asks for nothing, however large a part
    /// of the peak it is: a host's controller reconnecting costs no trim.
    #[test]
    fn a_small_fall_asks_for_nothing() {
        let now = Instant::now();
        let mut p = with_open(TRIM_FALL + 1);
        assert_eq!(close(&mut p, TRIM_FALL - 1, now), None);
        assert_eq!(p.live(), 2);
        assert_eq!(p.closed(now), Some(now), "TRIM_FALL closed");
        let mut p = with_open(TRIM_FALL - 1);
        assert_eq!(close(&mut p, TRIM_FALL - 1, now), None, "never TRIM_FALL below the peak");
    }

    /// Connections coming and going around a level (most of the peak open) never ask.
    #[test]
    fn churn_near_the_peak_asks_for_nothing() {
        let now = Instant::now();
        let mut p = with_open(1000);
        for _ in 0..10_000 {
            assert_eq!(close(&mut p, 400, now), None);
            (0..400).for_each(|_| p.opened());
        }
    }

    /// A trim starts a new peak from the connections open as it starts: the rest of the
    /// storm asks for a second trim, which waits for TRIM_EVERY after the first rather
    /// than being dropped.
    #[test]
    fn the_tail_of_a_storm_gets_a_trim_after_the_interval() {
        let t0 = Instant::now();
        let mut p = with_open(1000);
        assert_eq!(close(&mut p, 500, t0), Some(t0));
        p.starting();
        let done = t0 + Duration::from_millis(5);
        assert_eq!(p.trimmed(done), None, "none closed while it ran");
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(close(&mut p, 249, t1), None, "more than half of the new peak open");
        assert_eq!(p.closed(t1), Some(done + TRIM_EVERY), "waits for the interval");
        assert_eq!(close(&mut p, 251, t1), None, "already due");
        p.starting();
        assert_eq!(p.trimmed(done + TRIM_EVERY), None);
        assert_eq!(p.live(), 0);
        // A later storm trims at once again, past the interval.
        let mut later = done + 3 * TRIM_EVERY;
        (0..200).for_each(|_| p.opened());
        assert_eq!(close(&mut p, 100, later), Some(later));
        p.starting();
        later += Duration::from_millis(1);
        assert_eq!(p.trimmed(later), None);
        assert_eq!(close(&mut p, 100, later), Some(later + TRIM_EVERY));
    }

    /// Connections that close while a trim runs (it walked the arenas before their memory
    /// was freed) get a trim of their own once it is over, TRIM_EVERY later.
    #[test]
    fn connections_closing_during_a_trim_get_the_next_one() {
        let t0 = Instant::now();
        let mut p = with_open(1000);
        assert_eq!(close(&mut p, 500, t0), Some(t0));
        p.starting();
        assert_eq!(close(&mut p, 500, t0), None, "one is running");
        let done = t0 + Duration::from_millis(5);
        assert_eq!(p.trimmed(done), Some(done + TRIM_EVERY), "500 of 500 closed meanwhile");
        p.starting();
        assert_eq!(p.trimmed(done + TRIM_EVERY), None, "nothing more");
        assert_eq!(close(&mut p, 0, done + TRIM_EVERY), None);
    }

    /// The peak counts connections open at once, not accepted: a crowd that never held
    /// more than 50 at a time asks for nothing.
    #[test]
    fn the_peak_is_of_connections_open_at_once() {
        let now = Instant::now();
        let mut p = TrimPolicy::default();
        for _ in 0..100 {
            (0..50).for_each(|_| p.opened());
            assert_eq!(close(&mut p, 50, now), None);
        }
    }

    /// Memory freed between blocks still in use is given back: 16 MiB of 4 KiB blocks
    /// freed below one kept (so none of it is the heap's top, which `free` returns by
    /// itself) is released when asked, on glibc; elsewhere nothing is.
    #[test]
    fn free_memory_below_a_live_block_goes_back() {
        let mut blocks: Vec<Vec<u8>> = (0..4096).map(|i| vec![i as u8; 4096]).collect();
        let kept = blocks.pop();
        drop(blocks);
        let released = release_free_memory();
        assert_eq!(released, cfg!(all(target_os = "linux", target_env = "gnu")));
        drop(std::hint::black_box(kept));
    }
}
