//! One waiter, the newest: for a service's whole-state Sync, where each request carries the
//! entire desired state, so a Sync waiting behind a running one is worth nothing once a
//! newer one came. The agent times out and retries a Sync that hangs; without this each
//! retry would wait (and hold its request) until the hang clears, and then they would all
//! run, stale states applied one after another.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use tokio::sync::oneshot;

/// At most one caller waits for its turn: a newer one takes its place and the one it
/// replaces is told at once ([`Replaced`]).
#[derive(Debug, Default)]
pub struct NewestWaits {
    state: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    last_number: u64,
    /// The waiting caller, by its number, and how to tell it a newer one took its place.
    waiting: Option<(u64, oneshot::Sender<()>)>,
}

/// A newer caller took the waiting place before this one got its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a newer one replaced it while it waited")]
pub struct Replaced;

impl NewestWaits {
    /// Waits for `turn` (such as a lock), unless a newer caller comes first: then
    /// `Err(Replaced)` at once, `turn` dropped. A turn and a replacement ready at once go
    /// to the newer caller.
    pub async fn wait<T>(&self, turn: impl Future<Output = T>) -> Result<T, Replaced> {
        let (tell, mut replaced) = oneshot::channel();
        let number = {
            let mut w = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            w.last_number += 1;
            let number = w.last_number;
            if let Some((_, older)) = w.waiting.replace((number, tell)) {
                let _ = older.send(());
            }
            number
        };
        let got = tokio::select! {
            biased;
            _ = &mut replaced => return Err(Replaced),
            got = turn => got,
        };
        // Running: the waiting place is free, unless a newer caller has it.
        let mut w = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if w.waiting.as_ref().is_some_and(|(n, _)| *n == number) {
            w.waiting = None;
        }
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// Of three callers behind a held lock, the first two are replaced in turn and the
    /// newest gets the lock once it is free; a caller after that waits again.
    #[tokio::test]
    async fn only_the_newest_waits() {
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        let newest = Arc::new(NewestWaits::default());
        let held = lock.clone().lock_owned().await;
        let caller = || {
            let (lock, newest) = (lock.clone(), newest.clone());
            tokio::spawn(async move { newest.wait(lock.lock_owned()).await.map(drop) })
        };
        let (a, b) = (caller(), caller());
        tokio::time::sleep(Duration::from_millis(20)).await;
        let c = caller();
        assert_eq!(a.await.unwrap(), Err(Replaced));
        assert_eq!(b.await.unwrap(), Err(Replaced));
        drop(held);
        assert_eq!(c.await.unwrap(), Ok(()));
        assert_eq!(caller().await.unwrap(), Ok(()));
    }
}
