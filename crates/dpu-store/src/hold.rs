//! A test hook: flushes held at a gate until a test lets them run or fail, so a test can
//! observe what callers do while a write is in the tree but not on disk (a slow disk), and
//! after a flush failed. Only in tests and with the `test-hooks` feature.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, watch};

/// What a flush finds at the gate.
#[derive(Clone, Debug)]
enum Gate {
    Open,
    Held,
    /// Flushes fail with this reason, as a failed fsync would make them.
    Fail(String),
}

/// The gate every flush of a store passes before it writes (one per store).
pub(crate) struct FlushGate {
    state: watch::Sender<Gate>,
    /// Flushes that found the gate held, so far.
    arrived: AtomicU64,
    arrival: Notify,
}

impl Default for FlushGate {
    fn default() -> Self {
        Self {
            state: watch::Sender::new(Gate::Open),
            arrived: AtomicU64::new(0),
            arrival: Notify::new(),
        }
    }
}

impl FlushGate {
    /// Waits while the gate is held; `Err(why)` when it was set to fail.
    pub(crate) async fn pass(&self) -> Result<(), String> {
        let mut state = self.state.subscribe();
        let mut counted = false;
        loop {
            let now = state.borrow_and_update().clone();
            match now {
                Gate::Open => return Ok(()),
                Gate::Fail(why) => return Err(why),
                Gate::Held => {}
            }
            if !counted {
                counted = true;
                self.arrived.fetch_add(1, Ordering::SeqCst);
                self.arrival.notify_waiters();
            }
            // The sender lives as long as the store.
            if state.changed().await.is_err() {
                return Ok(());
            }
        }
    }
}

/// Holds the flushes of a store from its creation ([`Store::hold_flushes`]) until
/// [`release`](Self::release) or [`fail`](Self::fail); dropped, it releases them.
///
/// [`Store::hold_flushes`]: crate::Store::hold_flushes
pub struct FlushHold {
    gate: Arc<FlushGate>,
    arrived_before: u64,
}

impl FlushHold {
    pub(crate) fn new(gate: Arc<FlushGate>) -> Self {
        gate.state.send_replace(Gate::Held);
        let arrived_before = gate.arrived.load(Ordering::SeqCst);
        Self { gate, arrived_before }
    }

    /// Resolves once a flush waits at the gate since it was held.
    pub async fn flush_waiting(&self) {
        loop {
            let arrival = self.gate.arrival.notified();
            if self.gate.arrived.load(Ordering::SeqCst) > self.arrived_before {
                return;
            }
            arrival.await;
        }
    }

    /// Lets the held flushes, and those after them, run.
    pub fn release(self) {}

    /// Fails the held flushes, and those after them, with `why`, as a failed fsync would
    /// (the store fails: [`StoreError::Failed`](crate::StoreError::Failed)).
    pub fn fail(self, why: &str) {
        self.gate.state.send_replace(Gate::Fail(why.to_owned()));
    }
}

impl Drop for FlushHold {
    fn drop(&mut self) {
        self.gate.state.send_if_modified(|state| match state {
            Gate::Held => {
                *state = Gate::Open;
                true
            }
            _ => false,
        });
    }
}
