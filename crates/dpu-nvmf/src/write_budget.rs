//! The target-wide bound on write data asked for by R2T and not yet received.
//!
//! Each queue asks for at most [`R2T_BUDGET`] at a time, but without a bound over the
//! whole target those add up over every queue a subsystem takes (gigabytes for one open to
//! any host). As SPDK's transport-wide shared buffer pool (`num_shared_buffers`), this
//! budget is shared by every connection of a [`Server`](crate::Server): a queue's R2T takes
//! its length from it, except the R2T of a queue that has nothing asked for (each transfer
//! is within MDTS, so every queue progresses and none waits on another for ever); an R2T
//! that cannot take waits in its queue, in order, until data comes back here.
//!
//! One host (a peer address, an IPv6 /64: `dpu_runtime::peer::group`) holds at most a
//! quarter of the budget over all its connections ([`host_share`]), at least one queue's
//! [`R2T_BUDGET`]: a host that opens many queues and leaves their R2Ts unanswered holds
//! its share, not the whole budget, and other hosts' writes go on. A connection takes
//! through [`for_peer`](WriteBudget::for_peer), which the server gives each one it accepts.
//!
//! The queue core takes and gives back without waiting ([`try_take`](WriteBudget::try_take),
//! [`give_back`](WriteBudget::give_back)); the shell of a queue whose R2T waits registers
//! with [`waiter`](WriteBudget::waiter) and is woken when bytes come back: its host's bytes
//! if its host was over its share, anyone's if the whole budget was taken. Connections
//! that never wait never touch the notifications.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use crate::by_peer::ByPeer;
use crate::queue::R2T_BUDGET;

/// Default bound in MiB (`write_data_budget_mib`): 2,048 MDTS-sized writes asked for at
/// once over the whole target, far above what a 100 Gb/s port's bandwidth-delay product
/// needs, a small part of a card's memory.
pub const DEFAULT_WRITE_BUDGET_MIB: usize = 256;

/// Default bound in bytes.
pub const DEFAULT_WRITE_BUDGET: usize = DEFAULT_WRITE_BUDGET_MIB << 20;

/// Largest bound in MiB the configuration takes: 16 GiB, the memory of a large card; past
/// it the bound would bound nothing.
pub const MAX_WRITE_BUDGET_MIB: usize = 16 << 10;

/// What one host may hold of a budget of `limit` bytes: a quarter, and at least one
/// queue's [`R2T_BUDGET`] (within the bound), so a host's queue is never held below what
/// it may ask for alone.
pub fn host_share(limit: usize) -> usize {
    (limit / 4).max(R2T_BUDGET).min(limit)
}

/// Write data the connections of one server may have asked for by R2T and not yet
/// received, beyond each queue's first R2T. Cloning shares it; a clone from
/// [`for_peer`](Self::for_peer) also counts what it takes against its host's share.
#[derive(Debug, Clone)]
pub struct WriteBudget {
    shared: Arc<Shared>,
    /// The host a connection's budget takes for, with its last refusal's cause.
    host: Option<HostHandle>,
}

#[derive(Debug)]
struct Shared {
    limit: AtomicUsize,
    taken: AtomicUsize,
    /// Shells waiting for anyone's bytes to come back.
    wakes: Wakes,
    /// What each host with connections holds.
    hosts: ByPeer<Host>,
}

/// One host's part of the budget, shared by its connections.
#[derive(Debug, Default)]
struct Host {
    taken: AtomicUsize,
    /// Its shells waiting for its own bytes to come back.
    wakes: Wakes,
}

/// A connection's hold on its host's part.
#[derive(Debug, Clone)]
struct HostHandle {
    host: Arc<Host>,
    /// Whether the connection's last refused take was over the host's share (not the
    /// whole budget's): its shell then waits for the host's bytes only. Shared by the
    /// core's and the shell's clones of the one connection.
    over_share: Arc<AtomicBool>,
}

/// Shells waiting for bytes to come back: [`Wakes::wake`] notifies only while there
/// are some, so giving back costs no lock otherwise.
#[derive(Debug, Default)]
struct Wakes {
    waiters: AtomicUsize,
    returned: Notify,
}

impl Wakes {
    fn wake(&self) {
        // SeqCst with the waiter's count and its retry: a shell that this load does not
        // see counted yet retries after the bytes came back, so it finds them.
        if self.waiters.load(SeqCst) > 0 {
            self.returned.notify_waiters();
        }
    }

    fn register(&self) -> (Registered<'_>, Notified<'_>) {
        self.waiters.fetch_add(1, SeqCst);
        // A `Notified` receives `notify_waiters` from its creation, before any poll.
        (Registered(&self.waiters), self.returned.notified())
    }
}

/// Adds `bytes` to `taken` if the sum stays within `bound`.
fn take(taken: &AtomicUsize, bytes: usize, bound: usize) -> bool {
    taken.fetch_update(SeqCst, SeqCst, |t| t.checked_add(bytes).filter(|&t| t <= bound)).is_ok()
}

impl Default for WriteBudget {
    fn default() -> Self {
        Self::new(DEFAULT_WRITE_BUDGET)
    }
}

impl WriteBudget {
    /// A budget of `limit` bytes, none taken.
    pub fn new(limit: usize) -> Self {
        let shared = Shared {
            limit: AtomicUsize::new(limit),
            taken: AtomicUsize::new(0),
            wakes: Wakes::default(),
            hosts: ByPeer::default(),
        };
        Self { shared: Arc::new(shared), host: None }
    }

    /// The budget as a connection from `peer` takes it: within its host's share.
    pub fn for_peer(&self, peer: IpAddr) -> Self {
        let host = self.shared.hosts.get(peer, Host::default);
        let host = HostHandle { host, over_share: Arc::default() };
        Self { shared: self.shared.clone(), host: Some(host) }
    }

    /// The bound in bytes.
    pub fn limit(&self) -> usize {
        self.shared.limit.load(SeqCst)
    }

    /// Changes the bound in place: what is taken stays taken (a lower bound takes effect
    /// as it comes back); waiting queues try again at once.
    pub fn set_limit(&self, limit: usize) {
        self.shared.limit.store(limit, SeqCst);
        self.shared.wakes.wake();
        for host in self.shared.hosts.live() {
            host.wakes.wake();
        }
    }

    /// Bytes taken and not given back.
    pub fn taken(&self) -> usize {
        self.shared.taken.load(SeqCst)
    }

    /// Takes `bytes` if they fit under the bound and the host's share; never waits.
    pub fn try_take(&self, bytes: usize) -> bool {
        let limit = self.limit();
        let Some(h) = &self.host else { return take(&self.shared.taken, bytes, limit) };
        if !take(&h.host.taken, bytes, host_share(limit)) {
            h.over_share.store(true, SeqCst);
            return false;
        }
        h.over_share.store(false, SeqCst);
        if take(&self.shared.taken, bytes, limit) {
            return true;
        }
        // Back out of the host's share: a queue of the host refused meanwhile for the
        // bytes held here for a moment learns they are back.
        h.host.taken.fetch_sub(bytes, SeqCst);
        h.host.wakes.wake();
        false
    }

    /// Gives back `bytes` taken by [`try_take`](Self::try_take), and wakes the waiting
    /// shells, if any.
    pub fn give_back(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        if let Some(h) = &self.host {
            let before = h.host.taken.fetch_sub(bytes, SeqCst);
            debug_assert!(before >= bytes, "host gave back {bytes} of {before} taken");
            h.host.wakes.wake();
        }
        let before = self.shared.taken.fetch_sub(bytes, SeqCst);
        debug_assert!(before >= bytes, "gave back {bytes} of {before} taken");
        self.shared.wakes.wake();
    }

    /// Registers a shell whose queue waits for the budget: from this call on, bytes
    /// coming back complete [`Waiter::returned`] (its host's bytes only, if the last
    /// refused take was over the host's share). Take the waiter first, then retry the
    /// waiting R2Ts, then await it if they still wait: bytes given back in between are
    /// seen by the retry or wake the waiter.
    pub fn waiter(&self) -> Waiter<'_> {
        let host = self.host.as_ref().map(|h| (h.host.wakes.register(), &*h.over_share));
        Waiter { any: self.shared.wakes.register(), host }
    }
}

/// A shell's registration while its queue waits for the budget (see
/// [`WriteBudget::waiter`]); dropping it deregisters.
#[derive(Debug)]
pub struct Waiter<'a> {
    /// Woken by anyone's bytes.
    any: (Registered<'a>, Notified<'a>),
    /// Woken by the host's bytes, with whether the host was over its share.
    host: Option<((Registered<'a>, Notified<'a>), &'a AtomicBool)>,
}

impl Waiter<'_> {
    /// Completes once bytes came back (or the bound changed) after the waiter was made:
    /// the host's, if the queue's last refusal was over its host's share (another host's
    /// bytes could not let it go), else anyone's.
    pub async fn returned(self) {
        // The registrations live until this future is done or dropped.
        let Waiter { any, host } = self;
        match host {
            Some(((_registered, notified), over)) if over.load(SeqCst) => notified.await,
            _ => any.1.await,
        }
    }
}

/// A waiter's place in [`Wakes::waiters`].
#[derive(Debug)]
struct Registered<'a>(&'a AtomicUsize);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
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

    const MIB: usize = 1 << 20;

    fn peer(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    /// Whether `w` completed (one poll: a notified waiter completes at once).
    fn woken(w: &mut std::pin::Pin<Box<impl Future<Output = ()>>>) -> bool {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        w.as_mut().poll(&mut cx).is_ready()
    }

    /// One host, however many connections it takes the budget through, holds at most a
    /// quarter of it (at least one queue's R2T budget); other hosts take the rest.
    #[test]
    fn a_host_holds_at_most_a_quarter_of_the_budget() {
        let b = WriteBudget::new(8 * MIB);
        let (a1, a2, other) = (b.for_peer(peer(1)), b.for_peer(peer(1)), b.for_peer(peer(2)));
        assert!(a1.try_take(MIB) && a2.try_take(MIB));
        assert!(!a1.try_take(1) && !a2.try_take(1), "A holds its quarter");
        assert!(other.try_take(2 * MIB), "another host takes its own");
        a1.give_back(MIB);
        assert!(a2.try_take(MIB), "A's bytes came back: A takes again");
        assert_eq!(b.taken(), 4 * MIB);
        // A small budget still lets a host take one queue's R2T budget.
        let small = WriteBudget::new(2 * MIB);
        let a = small.for_peer(peer(1));
        assert!(a.try_take(crate::queue::R2T_BUDGET) && !a.try_take(1));
        assert!(small.for_peer(peer(2)).try_take(MIB));
    }

    /// A host over its share waits for its own bytes to come back, not for another's;
    /// a host refused by the whole budget is woken by anyone's.
    #[test]
    fn a_host_over_its_share_waits_for_its_own_bytes() {
        let b = WriteBudget::new(4 * MIB);
        let (a, c, d) = (b.for_peer(peer(1)), b.for_peer(peer(3)), b.for_peer(peer(4)));
        assert!(a.try_take(MIB) && c.try_take(MIB));
        let mut over = Box::pin(a.waiter().returned());
        assert!(!a.try_take(1), "over its share");
        c.give_back(MIB);
        assert!(!woken(&mut over), "another host's bytes do not wake it");
        a.give_back(MIB);
        assert!(woken(&mut over), "its own do");
        // The whole budget taken by four hosts: a fifth waits for anyone's.
        let e = b.for_peer(peer(5));
        assert!(a.try_take(MIB) && c.try_take(MIB) && d.try_take(MIB));
        assert!(b.for_peer(peer(6)).try_take(MIB));
        let mut full = Box::pin(e.waiter().returned());
        assert!(!e.try_take(1), "the budget is full");
        c.give_back(MIB);
        assert!(woken(&mut full), "any host's bytes wake it");
        assert!(e.try_take(MIB));
    }

    #[tokio::test]
    async fn a_waiter_is_woken_by_bytes_given_back_after_it_was_made() {
        let b = WriteBudget::new(10);
        assert!(b.try_take(10));
        // Given back between the waiter and its first poll: still woken.
        let w = b.waiter();
        b.give_back(10);
        tokio::time::timeout(Duration::from_secs(5), w.returned()).await.unwrap();
        assert_eq!(b.shared.wakes.waiters.load(SeqCst), 0, "deregistered");
        // Nothing given back: not woken.
        let w = b.waiter();
        assert!(tokio::time::timeout(Duration::from_millis(50), w.returned()).await.is_err());
        assert_eq!(b.shared.wakes.waiters.load(SeqCst), 0, "deregistered when dropped");
        // A raised bound wakes it too.
        let w = b.waiter();
        b.set_limit(20);
        tokio::time::timeout(Duration::from_secs(5), w.returned()).await.unwrap();
        drop(b.waiter());
        assert_eq!(b.shared.wakes.waiters.load(SeqCst), 0);
    }
}
