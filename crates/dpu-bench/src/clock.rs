//! The calling thread's CPU clock: figures per busy core, whatever else shares the machine.

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};

/// CPU time (user and system) the calling thread has used so far: its thread CPU clock,
/// which the kernel brings up to date when read (`/proc/thread-self/schedstat` moves only
/// at scheduler ticks and context switches: ±4 ms at 250 Hz).
pub fn thread_cpu_time() -> anyhow::Result<Duration> {
    Ok(Duration::from(clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)?))
}
