//! Per-volume quality of service: a token bucket of commands and one of bytes, refilled
//! with the time the caller gives (sans-IO: tests run it in virtual time).
//!
//! Each bucket holds at most a tenth of a second of its rate, so a tenant that was idle
//! gets a short burst, not a second of backlog; the byte bucket holds at least one
//! largest command (MDTS), so a limit below it still lets commands through, one per its
//! share of time.

use std::time::{Duration, Instant};

/// The limits of a volume; 0 leaves that dimension unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// Commands per second.
    pub iops: u64,
    /// Bytes per second (data of Read, Write and Compare).
    pub bytes_per_second: u64,
}

impl RateLimit {
    /// Whether nothing is limited.
    pub fn is_unlimited(&self) -> bool {
        self.iops == 0 && self.bytes_per_second == 0
    }
}

/// The share of a second a bucket may hold.
const BURST: f64 = 0.1;

/// One token bucket: `rate` tokens per second, at most `capacity`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
}

impl Bucket {
    /// A full bucket, or `None` for an unlimited dimension.
    fn new(rate: u64, least_capacity: f64) -> Option<Self> {
        (rate > 0).then(|| {
            let rate = rate as f64;
            let capacity = (rate * BURST).max(least_capacity);
            Self { rate, capacity, tokens: capacity }
        })
    }

    fn refill(&mut self, elapsed: Duration) {
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.capacity);
    }

    /// How long until `need` tokens (at most a full bucket) are there.
    fn wait_for(&self, need: f64) -> Duration {
        let missing = need.min(self.capacity) - self.tokens;
        if missing <= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(missing / self.rate) }
    }
}

/// The buckets of one volume.
#[derive(Debug, Clone)]
pub struct TokenBuckets {
    limit: RateLimit,
    commands: Option<Bucket>,
    bytes: Option<Bucket>,
    last: Instant,
}

impl TokenBuckets {
    /// Full buckets for `limit` at `now`; `largest` is the largest command's data.
    pub fn new(limit: RateLimit, largest: u64, now: Instant) -> Self {
        Self {
            limit,
            commands: Bucket::new(limit.iops, 1.0),
            bytes: Bucket::new(limit.bytes_per_second, largest as f64),
            last: now,
        }
    }

    /// The limits these buckets enforce.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes one command of `bytes` at `now`, or says when to try again.
    pub fn admit(&mut self, now: Instant, bytes: u64) -> Result<(), Instant> {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = self.last.max(now);
        let need = bytes as f64;
        let mut wait = Duration::ZERO;
        for (bucket, n) in [(&mut self.commands, 1.0), (&mut self.bytes, need)] {
            if let Some(b) = bucket {
                b.refill(elapsed);
                wait = wait.max(b.wait_for(n));
            }
        }
        if wait > Duration::ZERO {
            return Err(now + wait);
        }
        for (bucket, n) in [(&mut self.commands, 1.0), (&mut self.bytes, need)] {
            if let Some(b) = bucket {
                b.tokens -= n.min(b.capacity);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commands admitted over `secs` seconds of `step`-spaced attempts of `bytes` each.
    fn admitted(limit: RateLimit, bytes: u64, secs: u64, step: Duration) -> u64 {
        let t0 = Instant::now();
        let mut b = TokenBuckets::new(limit, 128 << 10, t0);
        let mut now = t0;
        let mut n = 0;
        while now < t0 + Duration::from_secs(secs) {
            if b.admit(now, bytes).is_ok() {
                n += 1;
            }
            now += step;
        }
        n
    }

    #[test]
    fn commands_per_second_follow_the_limit_after_one_burst() {
        let limit = RateLimit { iops: 1000, bytes_per_second: 0 };
        let n = admitted(limit, 4096, 10, Duration::from_micros(100));
        // 10 s at 1,000/s plus the 0.1 s burst the full bucket starts with.
        assert!((10_000..=10_101).contains(&n), "{n}");
    }

    #[test]
    fn bytes_per_second_follow_the_limit_and_a_large_command_still_passes() {
        let limit = RateLimit { iops: 0, bytes_per_second: 1 << 20 };
        let n = admitted(limit, 64 << 10, 10, Duration::from_millis(1));
        // 10 MiB over 10 s in 64 KiB commands, plus the first full bucket (128 KiB).
        assert!((160..=162).contains(&n), "{n}");
        // A limit below one command: one 128 KiB command per 128 KiB of budget.
        let slow = RateLimit { iops: 0, bytes_per_second: 64 << 10 };
        assert!((5..=6).contains(&admitted(slow, 128 << 10, 10, Duration::from_millis(1))));
    }

    #[test]
    fn a_refused_command_learns_when_to_come_back_and_idle_time_saves_only_a_burst() {
        let t0 = Instant::now();
        let mut b = TokenBuckets::new(RateLimit { iops: 10, bytes_per_second: 0 }, 0, t0);
        assert_eq!(b.admit(t0, 0), Ok(()), "a full bucket: one command");
        let retry = b.admit(t0, 0).unwrap_err();
        assert_eq!(retry, t0 + Duration::from_millis(100));
        assert_eq!(b.admit(retry, 0), Ok(()));
        // An hour idle: still one tenth of a second's worth (one command at 10/s).
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(b.admit(later, 0), Ok(()));
        assert!(b.admit(later, 0).is_err());
        assert!(RateLimit::default().is_unlimited());
    }
}
