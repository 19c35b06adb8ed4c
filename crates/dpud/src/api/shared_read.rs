//! One read of a service's live figures for every caller that asks while another read runs.
//! A caller reuses the answer of a read that started after it asked (so it is as fresh as
//! one of its own), else waits for the read in progress and starts the next: however many
//! callers ask at once (a host may keep its every call place busy with statistics, the
//! metrics endpoint scrapes, every Get of a subsystem asks), the service computes at most
//! two snapshots for them, one after the other, never a pile in parallel. Failures are
//! shared the same way, so callers waiting on a service that does not answer wait for one
//! timeout, not one each.

use std::sync::Arc;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// The last read of one kind and when it started.
pub struct SharedRead<T, E> {
    last: Mutex<Option<Answer<T, E>>>,
}

/// A read's answer and when the read started.
type Answer<T, E> = (Instant, Result<Arc<T>, E>);

impl<T, E> Default for SharedRead<T, E> {
    fn default() -> Self {
        Self { last: Mutex::new(None) }
    }
}

impl<T, E: Clone> SharedRead<T, E> {
    /// The answer of a read started no earlier than this call: another caller's, or that of
    /// `fetch`, run now.
    pub async fn read(&self, fetch: impl Future<Output = Result<T, E>>) -> Result<Arc<T>, E> {
        let asked = Instant::now();
        let mut last = self.last.lock().await;
        if let Some((started, answer)) = &*last
            && *started >= asked
        {
            return answer.clone();
        }
        let started = Instant::now();
        let answer = fetch.await.map(Arc::new);
        *last = Some((started, answer.clone()));
        answer
    }
}

/// A tower layer for tests of the readers that share a [`SharedRead`]: it passes calls on,
/// counting those of one method and answering each 200 ms late, so callers asking at once
/// overlap.
#[cfg(test)]
#[derive(Clone)]
pub(crate) struct SlowMethod {
    /// The method's path ends with this ("/GetStatus").
    pub method: &'static str,
    pub asked: Arc<std::sync::atomic::AtomicUsize>,
}

#[cfg(test)]
impl<S> tower::Layer<S> for SlowMethod {
    type Service = SlowMethodService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SlowMethodService { inner, slow: self.clone() }
    }
}

/// The service of [`SlowMethod`].
#[cfg(test)]
#[derive(Clone)]
pub(crate) struct SlowMethodService<S> {
    inner: S,
    slow: SlowMethod,
}

#[cfg(test)]
impl<S> tower::Service<http::Request<tonic::body::Body>> for SlowMethodService<S>
where
    S: tower::Service<http::Request<tonic::body::Body>> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send + 'static>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let slow = request.uri().path().ends_with(self.slow.method);
        if slow {
            self.slow.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        let answer = self.inner.call(request);
        Box::pin(async move {
            if slow {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            answer.await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::sync::Notify;

    use super::*;

    #[tokio::test]
    async fn callers_asking_during_a_read_share_the_next_one() {
        let shared = Arc::new(SharedRead::<usize, String>::default());
        let (fetches, release) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let read = |shared: Arc<SharedRead<usize, String>>| {
            let (fetches, release) = (fetches.clone(), release.clone());
            tokio::spawn(async move {
                shared
                    .read(async {
                        let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                        release.notified().await;
                        Ok(n)
                    })
                    .await
            })
        };
        let first = read(shared.clone());
        while fetches.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Ten callers ask while the first read runs: its answer is older than their ask.
        let waiting: Vec<_> = (0..10).map(|_| read(shared.clone())).collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        release.notify_one();
        assert_eq!(*first.await.unwrap().unwrap(), 1);
        while fetches.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        release.notify_one();
        for w in waiting {
            assert_eq!(*w.await.unwrap().unwrap(), 2, "every waiter got the second read");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "two reads for eleven callers");
        // A caller asking now, after both, reads anew.
        let later = read(shared.clone());
        while fetches.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        release.notify_one();
        assert_eq!(*later.await.unwrap().unwrap(), 3);
    }

    #[tokio::test]
    async fn a_failure_is_shared_with_those_who_waited_for_it() {
        let shared = Arc::new(SharedRead::<(), String>::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Mutex::new(()));
        let held = gate.clone().lock_owned().await;
        let read = || {
            let (shared, fetches, gate) = (shared.clone(), fetches.clone(), gate.clone());
            tokio::spawn(async move {
                shared
                    .read(async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        let _ = gate.lock().await;
                        Err("not answering".to_owned())
                    })
                    .await
            })
        };
        let first = read();
        while fetches.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let waiting: Vec<_> = (0..5).map(|_| read()).collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        assert!(first.await.unwrap().is_err());
        for w in waiting {
            assert_eq!(w.await.unwrap().unwrap_err(), "not answering");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "one more failed read, not one each");
    }
}
