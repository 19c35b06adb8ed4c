//! The target-wide bound on write data asked for by R2T and not yet received.
//!
//! Each queue asks for at most [`R2T_BUDGET`](crate::queue::R2T_BUDGET) at a time, but
//! without a bound over the whole target those add up over every queue a subsystem takes
//! (gigabytes for one open to any host). As SPDK's transport-wide shared buffer pool
//! (`num_shared_buffers`), this budget is shared by every connection of a
//! [`Server`](crate::Server): a queue's R2T takes its length from it, except the R2T of a
//! queue that has nothing asked for (each transfer is within MDTS, so every queue
//! progresses and none waits on another for ever); an R2T that cannot take waits in its
//! queue, in order, until data comes back here.
//!
//! The queue core takes and gives back without waiting ([`try_take`](WriteBudget::try_take),
//! [`give_back`](WriteBudget::give_back)); the shell of a queue whose R2T waits registers
//! with [`waiter`](WriteBudget::waiter) and is woken when bytes come back. Connections that
//! never wait never touch the notification.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// Default bound in MiB (`write_data_budget_mib`): 2,048 MDTS-sized writes asked for at
/// once over the whole target, far above what a 100 Gb/s port's bandwidth-delay product
/// needs, a small part of a card's memory.
pub const DEFAULT_WRITE_BUDGET_MIB: usize = 256;

/// Default bound in bytes.
pub const DEFAULT_WRITE_BUDGET: usize = DEFAULT_WRITE_BUDGET_MIB << 20;

/// Largest bound in MiB the configuration takes: 16 GiB, the memory of a large card; past
/// it the bound would bound nothing.
pub const MAX_WRITE_BUDGET_MIB: usize = 16 << 10;

/// Write data the connections of one server may have asked for by R2T and not yet
/// received, beyond each queue's first R2T. Cloning shares it.
#[derive(Debug, Clone)]
pub struct WriteBudget(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    limit: AtomicUsize,
    taken: AtomicUsize,
    /// Shells waiting for bytes to come back: [`WriteBudget::give_back`] notifies only
    /// while there are some, so giving back costs no lock otherwise.
    waiters: AtomicUsize,
    returned: Notify,
}

impl Default for WriteBudget {
    fn default() -> Self {
        Self::new(DEFAULT_WRITE_BUDGET)
    }
}

impl WriteBudget {
    /// A budget of `limit` bytes, none taken.
    pub fn new(limit: usize) -> Self {
        Self(Arc::new(Shared {
            limit: AtomicUsize::new(limit),
            taken: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            returned: Notify::new(),
        }))
    }

    /// The bound in bytes.
    pub fn limit(&self) -> usize {
        self.0.limit.load(SeqCst)
    }

    /// Changes the bound in place: what is taken stays taken (a lower bound takes effect
    /// as it comes back); waiting queues try again at once.
    pub fn set_limit(&self, limit: usize) {
        self.0.limit.store(limit, SeqCst);
        self.wake();
    }

    /// Bytes taken and not given back.
    pub fn taken(&self) -> usize {
        self.0.taken.load(SeqCst)
    }

    /// Takes `bytes` if they fit under the bound; never waits.
    pub fn try_take(&self, bytes: usize) -> bool {
        let limit = self.0.limit.load(SeqCst);
        self.0
            .taken
            .fetch_update(SeqCst, SeqCst, |taken| taken.checked_add(bytes).filter(|&t| t <= limit))
            .is_ok()
    }

    /// Gives back `bytes` taken by [`try_take`](Self::try_take), and wakes the waiting
    /// shells, if any.
    pub fn give_back(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let before = self.0.taken.fetch_sub(bytes, SeqCst);
        debug_assert!(before >= bytes, "gave back {bytes} of {before} taken");
        self.wake();
    }

    fn wake(&self) {
        // SeqCst with the waiter's count and its retry: a shell that this load does not
        // see counted yet retries after the bytes came back, so it finds them.
        if self.0.waiters.load(SeqCst) > 0 {
            self.0.returned.notify_waiters();
        }
    }

    /// Registers a shell whose queue waits for the budget: from this call on, bytes
    /// coming back complete [`Waiter::returned`]. Take the waiter first, then retry the
    /// waiting R2Ts, then await it if they still wait: bytes given back in between are
    /// seen by the retry or wake the waiter.
    pub fn waiter(&self) -> Waiter<'_> {
        self.0.waiters.fetch_add(1, SeqCst);
        // A `Notified` receives `notify_waiters` from its creation, before any poll.
        Waiter { _registered: Registered(&self.0), notified: self.0.returned.notified() }
    }
}

/// A shell's registration while its queue waits for the budget (see
/// [`WriteBudget::waiter`]); dropping it deregisters.
#[derive(Debug)]
pub struct Waiter<'a> {
    _registered: Registered<'a>,
    notified: Notified<'a>,
}

impl Waiter<'_> {
    /// Completes once bytes came back (or the bound changed) after the waiter was made.
    pub async fn returned(self) {
        // The registration lives until this future is done or dropped.
        let Waiter { _registered, notified } = self;
        notified.await;
    }
}

/// A waiter's place in [`Shared::waiters`].
#[derive(Debug)]
struct Registered<'a>(&'a Shared);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.0.waiters.fetch_sub(1, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn takes_up_to_the_bound_and_gets_back_what_was_given() {
        let b = WriteBudget::new(100);
        assert!(b.try_take(60));
        assert!(!b.try_take(41), "past the bound");
        assert!(b.try_take(40));
        assert_eq!(b.taken(), 100);
        assert!(!b.try_take(1));
        b.give_back(60);
        assert_eq!(b.taken(), 40);
        assert!(b.try_take(60));
        b.give_back(100);
        assert_eq!(b.taken(), 0);
        assert!(!b.try_take(usize::MAX), "no overflow");
        assert_eq!(b.taken(), 0);
    }

    #[test]
    fn a_lower_bound_takes_effect_as_bytes_come_back() {
        let b = WriteBudget::new(100);
        assert!(b.try_take(80));
        b.set_limit(50);
        assert!(!b.try_take(1));
        b.give_back(40);
        assert!(b.try_take(10));
        assert!(!b.try_take(1));
        assert_eq!(b.limit(), 50);
    }

    #[tokio::test]
    async fn a_waiter_is_woken_by_bytes_given_back_after_it_was_made() {
        let b = WriteBudget::new(10);
        assert!(b.try_take(10));
        // Given back between the waiter and its first poll: still woken.
        let w = b.waiter();
        b.give_back(10);
        tokio::time::timeout(Duration::from_secs(5), w.returned()).await.unwrap();
        assert_eq!(b.0.waiters.load(SeqCst), 0, "deregistered");
        // Nothing given back: not woken.
        let w = b.waiter();
        assert!(tokio::time::timeout(Duration::from_millis(50), w.returned()).await.is_err());
        assert_eq!(b.0.waiters.load(SeqCst), 0, "deregistered when dropped");
        // A raised bound wakes it too.
        let w = b.waiter();
        b.set_limit(20);
        tokio::time::timeout(Duration::from_secs(5), w.returned()).await.unwrap();
        drop(b.waiter());
        assert_eq!(b.0.waiters.load(SeqCst), 0);
    }
}
