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
                    if new_instance || stale || self.dirty.swap(false, Ordering::SeqCst) {
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
