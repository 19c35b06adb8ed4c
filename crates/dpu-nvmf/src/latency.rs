//! How long volume operations take on their device: a histogram per operation kind, with
//! buckets of powers of two microseconds, as operators read them (a p99 to an
//! order of magnitude) and as Prometheus histograms render them.
//!
//! Recorded by the shell for operations that leave the connection's task (file and block
//! device reads, writes and flushes on the io_uring or the pool), from hand-off to
//! completion; RAM volumes' copies are not device operations and are not recorded.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::queue::IoOp;

/// Buckets, as the API carries them (`LatencyHistogram::bucket_bound_us` there): bucket
/// `i` counts operations of at most 2^i µs (1 µs … 2^24 µs, about 16.8 s), the last those
/// above.
pub const BUCKETS: usize = dpu_proto::dpu::nvmf::v1::LatencyHistogram::BUCKETS;

/// The bucket of an operation that took `d`.
fn bucket(d: Duration) -> usize {
    // Rounded up: bucket i is exported as `le` 2^i µs, so 1,001 ns is not in bucket 0.
    let us = u64::try_from(d.as_nanos().div_ceil(1000)).unwrap_or(u64::MAX);
    if us <= 1 {
        return 0;
    }
    // ceil(log2(us)): 2 -> 1, 3 and 4 -> 2, 5 to 8 -> 3.
    ((u64::BITS - (us - 1).leading_zeros()) as usize).min(BUCKETS - 1)
}

/// One operation kind's histogram; any thread records (relaxed adds: counts, not order).
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    counts: [AtomicU64; BUCKETS],
    sum_ns: AtomicU64,
}

impl LatencyHistogram {
    /// Counts an operation that took `d`.
    pub fn record(&self, d: Duration) {
        self.counts[bucket(d)].fetch_add(1, Relaxed);
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    /// The counts so far, in the API's form (which the agent and dpuctl read).
    pub fn snapshot(&self) -> dpu_proto::dpu::nvmf::v1::LatencyHistogram {
        dpu_proto::dpu::nvmf::v1::LatencyHistogram {
            counts: self.counts.iter().map(|c| c.load(Relaxed)).collect(),
            sum_ns: self.sum_ns.load(Relaxed),
        }
    }
}

/// A volume's histograms by operation kind.
#[derive(Debug, Default)]
pub struct VolumeLatency {
    /// Reads (Read, Compare).
    pub read: LatencyHistogram,
    /// Writes.
    pub write: LatencyHistogram,
    /// Flushes.
    pub flush: LatencyHistogram,
}

impl VolumeLatency {
    /// Counts `op`, which took `d`, if it is a kind kept here (Write Zeroes, Deallocate,
    /// Verify and the service's own operations are not).
    pub fn record(&self, op: &IoOp, d: Duration) {
        match op {
            IoOp::Read { .. } => self.read.record(d),
            IoOp::Write { .. } => self.write.record(d),
            IoOp::Flush => self.flush.record(d),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_microseconds() {
        let us = Duration::from_micros;
        let b = |d| bucket(d);
        let small = [b(Duration::ZERO), b(us(1)), b(us(2)), b(us(3)), b(us(4)), b(us(5))];
        assert_eq!(small, [0, 0, 1, 2, 2, 3]);
        let ns = Duration::from_nanos;
        assert_eq!(
            [b(ns(1_000)), b(ns(1_001)), b(ns(2_000)), b(ns(2_001))],
            [0, 1, 1, 2],
            "at most 2^i µs"
        );
        assert_eq!(b(us(1 << 24)), 24);
        assert_eq!(b(us((1 << 24) + 1)), BUCKETS - 1);
        assert_eq!(b(Duration::MAX), BUCKETS - 1);
    }

    #[test]
    fn a_histogram_counts_and_sums() {
        let h = LatencyHistogram::default();
        for _ in 0..98 {
            h.record(Duration::from_micros(90));
        }
        h.record(Duration::from_millis(3));
        h.record(Duration::from_secs(60));
        let s = h.snapshot();
        assert_eq!(s.count(), 100);
        assert_eq!((s.counts[7], s.counts[12], s.counts[BUCKETS - 1]), (98, 1, 1));
        assert_eq!(s.sum_ns, 98 * 90_000 + 3_000_000 + 60_000_000_000);
    }

    #[test]
    fn volume_histograms_by_operation() {
        let v = VolumeLatency::default();
        let d = Duration::from_micros(10);
        v.record(&IoOp::Read { offset: 0, len: 512, fua: false }, d);
        v.record(&IoOp::Flush, d);
        v.record(&IoOp::Flush, d);
        v.record(&IoOp::WriteZeroes { offset: 0, len: 512, fua: false, deallocate: false }, d);
        let counts = [&v.read, &v.write, &v.flush].map(|h| h.snapshot().count());
        assert_eq!(counts, [1, 0, 2]);
    }
}
