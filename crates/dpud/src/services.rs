//! The agent's side of every service: supervision (optional) and reconciliation.
//!
//! Invariant: whenever a service process is new (its instance id changed) or desired state
//! changed, the agent re-applies the *whole* desired state of that service from the store. The
//! service is never told a delta, so a restarted or drifted service converges in one sync.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use dpu_proto::dpu::internal::v1::GetServiceInfoRequest;
use dpu_proto::dpu::internal::v1::service_control_client::ServiceControlClient;
use tokio::sync::{Notify, watch};
use tonic::transport::Channel;

/// How often the agent checks that each service is alive and the same instance.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a service may take to apply the whole desired state (opening and growing
/// volumes, binding ports) before the agent gives up on that sync, reports the service not
/// serving and tries again: a wedged service must not stop its probing for good.
const SYNC_TIMEOUT: Duration = Duration::from_secs(120);

/// What the agent last saw of a service.
#[derive(Debug, Clone, Default)]
pub struct ServiceState {
    pub serving: bool,
    pub instance_id: String,
    pub version: String,
    /// New instances seen after the first one.
    pub restarts: u64,
    pub last_sync: Option<SystemTime>,
    pub message: String,
}

/// Applies the full desired state of one service.
#[tonic::async_trait]
pub trait Reconciler: Send + Sync + 'static {
    async fn sync(&self, channel: Channel) -> Result<(), tonic::Status>;
}

pub struct ServiceHandle {
    pub name: String,
    channel: Channel,
    state: Mutex<ServiceState>,
    dirty: AtomicBool,
    wake: Notify,
}

impl ServiceHandle {
    pub fn new(name: &str, channel: Channel) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            channel,
            state: Mutex::new(ServiceState::default()),
            // Nothing has been applied yet.
            dirty: AtomicBool::new(true),
            wake: Notify::new(),
        })
    }

    /// Desired state changed: re-apply soon.
    pub fn request_sync(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub fn state(&self) -> ServiceState {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    fn update(&self, f: impl FnOnce(&mut ServiceState)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
    }

    /// Probes and, when needed, re-applies desired state until `shutdown` turns true.
    pub async fn run(
        self: Arc<Self>,
        reconciler: Arc<dyn Reconciler>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut control = ServiceControlClient::new(self.channel.clone());
        let mut synced_instance: Option<String> = None;
        let mut synced_epoch = 0;
        loop {
            let probe = tokio::time::timeout(
                PROBE_TIMEOUT,
                control.get_service_info(GetServiceInfoRequest {}),
            )
            .await;
            match probe {
                Ok(Ok(info)) => {
                    let info = info.into_inner();
                    let new_instance =
                        synced_instance.as_deref() != Some(info.instance_id.as_str());
                    if new_instance {
                        let restarted = synced_instance.is_some();
                        tracing::info!(service = %self.name, instance = %info.instance_id, version = %info.version, restarted, "service instance up");
                        self.update(|s| {
                            s.restarts += u64::from(restarted && s.instance_id != info.instance_id);
                            s.instance_id = info.instance_id.clone();
                            s.version = info.version.clone();
                        });
                    }
                    // A new epoch: the service changed statuses on its own since the last
                    // sync; syncing again (idempotent) brings them into the store.
                    let stale = info.status_epoch != synced_epoch;
                    // Taken on every probe: a sync that happens for another reason also sends
                    // what the request asked for, so it must not cause a second one.
                    let requested = self.dirty.swap(false, Ordering::SeqCst);
                    if new_instance || stale || requested {
                        let synced = tokio::time::timeout(
                            SYNC_TIMEOUT,
                            reconciler.sync(self.channel.clone()),
                        )
                        .await
                        .unwrap_or_else(|_| {
                            Err(tonic::Status::deadline_exceeded(format!(
                                "no answer within {} s",
                                SYNC_TIMEOUT.as_secs()
                            )))
                        });
                        match synced {
                            Ok(()) => {
                                synced_instance = Some(info.instance_id);
                                synced_epoch = info.status_epoch;
                                self.update(|s| {
                                    s.serving = true;
                                    s.last_sync = Some(SystemTime::now());
                                    s.message.clear();
                                });
                            }
                            Err(e) => {
                                tracing::warn!(service = %self.name, error = %e, "re-applying desired state failed; will retry");
                                self.dirty.store(true, Ordering::SeqCst);
                                self.update(|s| {
                                    s.serving = false;
                                    s.message = format!("sync failed: {}", e.message());
                                });
                            }
                        }
                    } else {
                        self.update(|s| s.serving = true);
                    }
                }
                Ok(Err(e)) => self.down(&format!("not answering: {}", e.message())),
                Err(_) => self.down("not answering within the probe timeout"),
            }
            tokio::select! {
                _ = tokio::time::sleep(PROBE_INTERVAL) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    fn down(&self, why: &str) {
        let was_serving = self.state().serving;
        if was_serving {
            tracing::warn!(service = %self.name, reason = why, "service is down");
        }
        self.update(|s| {
            s.serving = false;
            s.message = why.to_owned();
        });
    }
}

/// Every service the agent drives, by name.
#[derive(Default, Clone)]
pub struct Services {
    pub handles: BTreeMap<String, Arc<ServiceHandle>>,
}

impl Services {
    pub fn get(&self, name: &str) -> Option<&Arc<ServiceHandle>> {
        self.handles.get(name)
    }
}

/// Asks the service who it is, within the probe timeout.
async fn probe(channel: &Channel) -> Option<dpu_proto::dpu::internal::v1::ServiceInfo> {
    let mut control = ServiceControlClient::new(channel.clone());
    match tokio::time::timeout(PROBE_TIMEOUT, control.get_service_info(GetServiceInfoRequest {}))
        .await
    {
        Ok(Ok(info)) => Some(info.into_inner()),
        _ => None,
    }
}

/// Keeps `command` running: starts it and restarts it whenever it exits, with a growing delay,
/// until shutdown; then stops it with SIGTERM (SIGKILL after a grace period).
///
/// A service that already answers on its socket (left running by an agent that crashed) is
/// adopted instead of started again: the card keeps forwarding and serving through an agent
/// restart, and the agent only re-applies desired state to it.
pub async fn supervise_process(
    name: String,
    command: Vec<String>,
    channel: Channel,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if let Some(info) = probe(&channel).await {
            tracing::info!(service = %name, pid = info.pid, instance = %info.instance_id, "adopting the running service");
            if watch_adopted(&name, &channel, info.pid, &mut shutdown).await {
                return;
            }
        }
        let started = std::time::Instant::now();
        let mut cmd = tokio::process::Command::new(&command[0]);
        cmd.args(&command[1..]).kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(service = %name, program = %command[0], error = %e, "cannot start service");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        tracing::info!(service = %name, pid = child.id(), "service process started");
        tokio::select! {
            status = child.wait() => {
                tracing::warn!(service = %name, status = ?status, "service process exited; restarting");
            }
            _ = shutdown.changed() => {
                stop_child(&name, &mut child).await;
                return;
            }
        }
        if started.elapsed() > Duration::from_secs(10) {
            backoff = Duration::from_millis(100);
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Watches an adopted process until it stops answering (returns false: start a new one) or the
/// agent shuts down (stops it and returns true).
async fn watch_adopted(
    name: &str,
    channel: &Channel,
    pid: u32,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let mut misses = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PROBE_INTERVAL) => {}
            _ = shutdown.changed() => {
                if let Ok(pid) = i32::try_from(pid) {
                    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
                }
                return true;
            }
        }
        match probe(channel).await {
            Some(info) if info.pid == pid => misses = 0,
            Some(_) => return false,
            None => {
                misses += 1;
                if misses >= 3 {
                    tracing::warn!(service = %name, pid, "adopted service stopped answering; starting a new one");
                    return false;
                }
            }
        }
    }
}

async fn stop_child(name: &str, child: &mut tokio::process::Child) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    if tokio::time::timeout(Duration::from_secs(5), child.wait()).await.is_err() {
        tracing::warn!(service = %name, "service did not stop on SIGTERM; killing it");
        let _ = child.kill().await;
    }
}

#[cfg(test)]
mod tests {
    //! The sync loop against a fake service (its `ServiceControl` served over a Unix socket, as
    //! every service serves it) and a fake reconciler, in paused time: every probe and sync
    //! happens at an exact virtual instant.

    use std::sync::atomic::AtomicU64;

    use dpu_proto::dpu::internal::v1::ServiceInfo;
    use dpu_proto::dpu::internal::v1::service_control_server::{
        ServiceControl, ServiceControlServer,
    };
    use tokio::task::JoinHandle;
    use tokio::time::Instant;

    use super::*;

    /// A service whose identity the test changes (a restart, a status change) and which
    /// counts the probes.
    #[derive(Clone, Default)]
    struct FakeService {
        info: Arc<Mutex<ServiceInfo>>,
        probes: Arc<AtomicU64>,
    }

    #[tonic::async_trait]
    impl ServiceControl for FakeService {
        async fn get_service_info(
            &self,
            _request: tonic::Request<GetServiceInfoRequest>,
        ) -> Result<tonic::Response<ServiceInfo>, tonic::Status> {
            self.probes.fetch_add(1, Ordering::SeqCst);
            Ok(tonic::Response::new(self.info.lock().unwrap().clone()))
        }
    }

    /// Records when each sync happened; fails them while `fail` holds a message.
    #[derive(Default)]
    struct FakeReconciler {
        syncs: Mutex<Vec<Instant>>,
        fail: Mutex<Option<String>>,
    }

    #[tonic::async_trait]
    impl Reconciler for FakeReconciler {
        async fn sync(&self, _channel: Channel) -> Result<(), tonic::Status> {
            self.syncs.lock().unwrap().push(Instant::now());
            match self.fail.lock().unwrap().clone() {
                Some(message) => Err(tonic::Status::unavailable(message)),
                None => Ok(()),
            }
        }
    }

    struct Harness {
        service: FakeService,
        reconciler: Arc<FakeReconciler>,
        handle: Arc<ServiceHandle>,
        start: Instant,
        shutdown: watch::Sender<bool>,
        task: JoinHandle<()>,
        _dir: tempfile::TempDir,
    }

    impl Harness {
        /// Serves a fake service and starts the handle's loop on it, failing every sync with
        /// `fail` if given.
        async fn start(fail: Option<&str>) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("fake.sock");
            let service = FakeService::default();
            service.info.lock().unwrap().instance_id = "first".into();
            let listener = dpu_runtime::unix::bind(&path).unwrap();
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(ServiceControlServer::new(service.clone()))
                    .serve_with_incoming(listener),
            );
            let reconciler = Arc::new(FakeReconciler::default());
            *reconciler.fail.lock().unwrap() = fail.map(str::to_owned);
            let handle = ServiceHandle::new("fake", dpu_runtime::unix::channel(&path));
            let (shutdown, watch) = watch::channel(false);
            let start = Instant::now();
            let task = tokio::spawn(handle.clone().run(reconciler.clone(), watch));
            Self { service, reconciler, handle, start, shutdown, task, _dir: dir }
        }

        /// When each sync happened, from the start.
        fn syncs(&self) -> Vec<Duration> {
            self.reconciler.syncs.lock().unwrap().iter().map(|t| *t - self.start).collect()
        }

        /// Lets the loop run until `at` from the start.
        async fn run_until(&self, at: Duration) {
            tokio::time::sleep_until(self.start + at).await;
        }

        async fn stop(self) {
            self.shutdown.send(true).unwrap();
            self.task.await.unwrap();
        }
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// The timer wheel's resolution: virtual instants may be rounded to it.
    const MS: Duration = Duration::from_millis(1);

    fn near(a: Duration, b: Duration) -> bool {
        a.abs_diff(b) <= 2 * MS
    }

    /// A new instance (the first one too) is synced once, even when desired state was marked
    /// changed before: the sync sends it, so no second sync follows.
    #[tokio::test(start_paused = true)]
    async fn a_new_instance_syncs_exactly_once() {
        let h = Harness::start(None).await;
        h.run_until(secs(5.25)).await;
        let syncs = h.syncs();
        assert!(syncs.len() == 1 && near(syncs[0], Duration::ZERO), "syncs at {syncs:?}");
        assert!(h.handle.state().serving);

        // Restarted, with desired state changed too: still one sync.
        h.service.info.lock().unwrap().instance_id = "second".into();
        h.handle.request_sync();
        h.run_until(secs(10.0)).await;
        let syncs = h.syncs();
        assert!(syncs.len() == 2 && near(syncs[1], secs(5.25)), "syncs at {syncs:?}");
        let state = h.handle.state();
        assert_eq!((state.instance_id.as_str(), state.restarts), ("second", 1));
        h.stop().await;
    }
}
