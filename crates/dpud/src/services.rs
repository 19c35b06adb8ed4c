//! The agent's side of every service: supervision (optional) and reconciliation.
//!
//! Invariant: whenever a service process is new (its instance id changed) or desired state
//! changed, the agent re-applies the *whole* desired state of that service from the store. The
//! service is never told a delta, so a restarted or drifted service converges in one sync. The
//! statuses a previous instance reported are forgotten when a new one is seen (its objects show
//! PENDING until it reports).
//!
//! A sync that fails is tried again after a growing delay (0.5 s doubling up to 30 s) rather
//! than on every probe, since each attempt sends everything; a new instance, a moved status
//! epoch or a change of desired state still syncs at once. So is one that left objects FAILED
//! (as Kubernetes controllers requeue a failed object): the cause may go away without the
//! service noticing (a device node that appears later, a port another process lets go).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use dpu_proto::dpu::internal::v1::GetServiceInfoRequest;
use dpu_proto::dpu::internal::v1::service_control_client::ServiceControlClient;
use dpu_proto::dpu::nvmf::v1::NvmfStats;
use dpu_proto::dpu::switch::v1::SwitchStatus;
use dpu_runtime::cgroup::{self, Cgroup, Hierarchy};
use dpu_runtime::process::{group_runs, stat};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tonic::transport::Channel;

use crate::api::shared_read::SharedRead;

/// How often the agent checks that each service is alive and the same instance.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// How long a service may take to stop on SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long the processes of a killed child's group may take to go before a new instance
/// starts all the same (one stuck in the kernel acts on SIGKILL only once out of it).
const KILL_WAIT: Duration = Duration::from_secs(2);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Probes missed in a row after which a supervised process that answered (or holds its
/// socket) is hung, and replaced.
const HUNG_AFTER_MISSES: u32 = 3;
/// How long a service may take to apply the whole desired state (opening and growing
/// volumes, binding ports) before the agent gives up on that sync, reports the service not
/// serving and tries again: a wedged service must not stop its probing for good.
const SYNC_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the agent waits before trying a failed sync again, or one that left objects FAILED;
/// each further such sync doubles the wait, up to [`RETRY_MAX`]. A new instance, a moved status epoch or a change of desired
/// state still syncs at once. Each sync sends the whole desired state (costly for the service
/// when it is large), so a service that keeps refusing (e.g. an older version) is not asked
/// twice a second.
const RETRY_FIRST: Duration = PROBE_INTERVAL;
const RETRY_MAX: Duration = Duration::from_secs(30);
/// A sync that keeps failing with the same message is logged at most this often.
const WARN_INTERVAL: Duration = Duration::from_secs(60);

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
    /// The store revision ([`dpu_store::Store::revision`]) of the newest write of this
    /// service's objects the agent acknowledged, and at least the revision the agent found
    /// at its start (no sync of this process carried those writes yet).
    pub desired_revision: u64,
    /// The store revision the snapshot of the last sync the service answered was read at
    /// ([`Synced::revision`]): every write numbered up to it had reached the service then.
    pub synced_revision: u64,
}

/// What a sync the service answered found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    /// Objects the service reported FAILED that another sync may apply (their cause can go
    /// away without anything telling the agent): while there are any, the agent syncs again
    /// after a growing delay. A reconciler counts none whose service retries them itself.
    pub failed: usize,
    /// Every object the service reported FAILED, counted and the first few named
    /// (`dpu_proto::failed_objects`): the service's health message until the next sync,
    /// as the service serves the others.
    pub objects_failed: Option<String>,
    /// The store revision read before the snapshot the sync sent ([`dpu_store::Store::revision`]):
    /// every write numbered up to it was in what the service answered for (a removed object
    /// is gone from it, an nvmf namespace's I/O drained or its bound passed).
    pub revision: u64,
}

/// Applies the full desired state of one service.
#[tonic::async_trait]
pub trait Reconciler: Send + Sync + 'static {
    async fn sync(&self, channel: Channel) -> Result<Synced, tonic::Status>;
    /// The service is a new instance: the statuses the one before reported (APPLIED, FAILED)
    /// say nothing of what the new process applied, so they go, and its objects show PENDING
    /// (as before any sync) until a sync of the new instance reports.
    fn forget_statuses(&self);
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

    /// A write of this service's objects that the store numbered `revision` is in its tree
    /// (or, at start, writes up to `revision` are stored that no sync of this process
    /// carried): health shows `revision` as desired from now on. Called before the write is
    /// acknowledged and before the writer lock goes, so whatever answers after seeing the
    /// write (its own reply; a Delete that finds the object missing) is answered after it:
    /// a client that then waits for the synced revision to reach the desired one (`dpuctl
    /// delete --wait`) waits for a sync holding the write. The write's nudge
    /// ([`request_sync`](Self::request_sync), once it is on disk) brings that sync.
    pub fn desired_at(&self, revision: u64) {
        self.update(|s| s.desired_revision = s.desired_revision.max(revision));
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
    ///
    /// The service is probed every [`PROBE_INTERVAL`]. It is synced at once when it is a new
    /// instance, its status epoch moved or desired state changed ([`Self::request_sync`]); a
    /// sync that failed is tried again after a growing delay ([`RETRY_FIRST`] doubling up to
    /// [`RETRY_MAX`]), so a service that keeps refusing is not sent the whole desired state
    /// twice a second; so is one that left objects FAILED (a change of desired state or a new
    /// instance starts those gaps afresh, a sync that leaves none ends them).
    pub async fn run(
        self: Arc<Self>,
        reconciler: Arc<dyn Reconciler>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut control = ServiceControlClient::new(self.channel.clone());
        // The instance and status epoch of the last sync, whether it succeeded or not: a
        // failed one is tried again on its own schedule (`failing`), not on every probe.
        let mut seen_instance: Option<String> = None;
        let mut seen_epoch = 0;
        let mut failing: Option<Failing> = None;
        // The last sync went through but left objects FAILED: when to sync again.
        let mut failed_objects: Option<Retry> = None;
        // When the service last answered a probe: a down service's message says how long ago.
        let mut last_answer: Option<Instant> = None;
        // What the last sync that went through left FAILED: the message while serving.
        let mut objects_failed = String::new();
        loop {
            let probe = tokio::time::timeout(
                PROBE_TIMEOUT,
                control.get_service_info(GetServiceInfoRequest {}),
            )
            .await;
            match probe {
                Ok(Ok(info)) => {
                    last_answer = Some(Instant::now());
                    let info = info.into_inner();
                    let new_instance = seen_instance.as_deref() != Some(info.instance_id.as_str());
                    if new_instance {
                        let restarted = seen_instance.is_some();
                        tracing::info!(service = %self.name, instance = %info.instance_id, version = %info.version, restarted, "service instance up");
                        self.update(|s| {
                            s.restarts += u64::from(restarted && s.instance_id != info.instance_id);
                            s.instance_id = info.instance_id.clone();
                            s.version = info.version.clone();
                        });
                        // A new process starts its retries afresh: an upgraded service whose
                        // first sync fails for a moment is not kept waiting by its
                        // predecessor's backoff (the warnings' schedule stays).
                        if let Some(f) = failing.as_mut() {
                            f.retry.backoff = Duration::ZERO;
                        }
                        // What the last instance reported is not what this one applied: it
                        // must not show until this one reports, also if its sync fails.
                        reconciler.forget_statuses();
                    }
                    // A new epoch: the service changed statuses on its own since the last
                    // sync; syncing again (idempotent) brings them into the store.
                    let stale = info.status_epoch != seen_epoch;
                    // Taken on every probe: a sync that happens for another reason also sends
                    // what the request asked for, so it must not cause a second one.
                    let requested = self.dirty.swap(false, Ordering::SeqCst);
                    // A change may be what the FAILED objects waited for: if they still fail,
                    // the gaps start afresh.
                    if let Some(r) = failed_objects.as_mut().filter(|_| new_instance || requested) {
                        r.backoff = Duration::ZERO;
                    }
                    let now = Instant::now();
                    let retry_due = failing.as_ref().is_some_and(|f| now >= f.retry.at)
                        || failed_objects.as_ref().is_some_and(|r| now >= r.at);
                    if new_instance || stale || requested || retry_due {
                        seen_instance = Some(info.instance_id);
                        seen_epoch = info.status_epoch;
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
                            Ok(synced) => {
                                if let Some(f) = failing.take() {
                                    tracing::info!(service = %self.name, failed_attempts = f.attempts, "re-applied desired state after failed attempts");
                                }
                                failed_objects = (synced.failed > 0)
                                    .then(|| Retry::after(failed_objects.as_ref(), Instant::now()));
                                objects_failed = synced.objects_failed.unwrap_or_default();
                                if let Some(r) = &failed_objects {
                                    tracing::debug!(service = %self.name, failed_objects = synced.failed, objects = %objects_failed, retry_in_ms = r.backoff.as_millis(), "objects failed; will sync again");
                                }
                                self.update(|s| {
                                    s.serving = true;
                                    s.last_sync = Some(SystemTime::now());
                                    s.message.clone_from(&objects_failed);
                                    s.synced_revision = s.synced_revision.max(synced.revision);
                                });
                            }
                            Err(e) => {
                                // The failed sync's own retries cover the objects too.
                                failed_objects = None;
                                let warn =
                                    Failing::record(&mut failing, e.message(), Instant::now());
                                if let (Some(failed_since_warning), Some(f)) = (warn, &failing) {
                                    tracing::warn!(service = %self.name, error = %e, failed_attempts = f.attempts, failed_since_warning, retry_in_ms = f.retry.backoff.as_millis(), "re-applying desired state failed; will retry");
                                }
                                let message = format!("sync failed: {}", e.message());
                                self.update(|s| {
                                    s.serving = false;
                                    s.message = message;
                                });
                            }
                        }
                    } else if let Some(f) = &failing {
                        // Waiting to retry: still not serving what is desired, and the
                        // message says why (a probe that failed meanwhile may have replaced it).
                        self.update(|s| {
                            s.serving = false;
                            s.message = format!("sync failed: {}", f.error);
                        });
                    } else {
                        // Answering again: the message of a probe that failed goes too, and
                        // the last sync's failed objects show again.
                        self.update(|s| {
                            s.serving = true;
                            s.message.clone_from(&objects_failed);
                        });
                    }
                }
                Ok(Err(e)) => self.down(&format!("not answering: {}", e.message()), last_answer),
                Err(_) => self.down("not answering within the probe timeout", last_answer),
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

    /// The service did not answer a probe: not serving, and what it last said (instance,
    /// version, last sync) is kept; the message says why and, if it ever answered, how long
    /// ago that was (what the agent shows of it is that old).
    fn down(&self, why: &str, last_answer: Option<Instant>) {
        let was_serving = self.state().serving;
        if was_serving {
            tracing::warn!(service = %self.name, reason = why, "service is down");
        }
        let message = match last_answer {
            Some(at) => format!("{why} (last answered {} s ago)", at.elapsed().as_secs()),
            None => why.to_owned(),
        };
        self.update(|s| {
            s.serving = false;
            s.message = message;
        });
    }
}

/// When to sync again after a sync that failed or left objects FAILED.
#[derive(Debug)]
struct Retry {
    /// The wait before this retry: [`RETRY_FIRST`] after the first failure, doubled after
    /// each further one, at most [`RETRY_MAX`].
    backoff: Duration,
    /// The first probe at or after this instant syncs again.
    at: Instant,
}

impl Retry {
    /// The retry after a failure at `now`, following the retry `previous` of the failures
    /// before it in a row (if any).
    fn after(previous: Option<&Self>, now: Instant) -> Self {
        let previous = previous.map_or(Duration::ZERO, |r| r.backoff);
        let backoff = (previous * 2).clamp(RETRY_FIRST, RETRY_MAX);
        Self { backoff, at: now + backoff }
    }
}

/// Syncs that failed since the last one that succeeded: when to try again, and what was logged.
#[derive(Debug)]
struct Failing {
    /// Failed attempts in a row.
    attempts: u64,
    retry: Retry,
    /// The last failure's message.
    error: String,
    /// When the last warning was logged.
    warned_at: Instant,
    /// Failed attempts since that warning.
    unwarned: u64,
}

impl Failing {
    /// Records a failed sync at `now` and schedules the retry. Returns how many attempts failed
    /// since the last warning, this one included, when this failure is to be logged: the first
    /// one, one whose message differs from the previous one's, or the first one a minute or
    /// more after the last warning ([`WARN_INTERVAL`]).
    fn record(failing: &mut Option<Self>, error: &str, now: Instant) -> Option<u64> {
        let Some(f) = failing else {
            *failing = Some(Self {
                attempts: 1,
                retry: Retry::after(None, now),
                error: error.to_owned(),
                warned_at: now,
                unwarned: 0,
            });
            return Some(1);
        };
        f.attempts += 1;
        f.retry = Retry::after(Some(&f.retry), now);
        f.unwarned += 1;
        let changed = f.error != error;
        if changed {
            error.clone_into(&mut f.error);
        }
        if !changed && now.duration_since(f.warned_at) < WARN_INTERVAL {
            return None;
        }
        f.warned_at = now;
        Some(std::mem::take(&mut f.unwarned))
    }
}

/// Every service the agent drives, by name.
#[derive(Default, Clone)]
pub struct Services {
    pub handles: BTreeMap<String, Arc<ServiceHandle>>,
    /// The nvmf service's statistics snapshots, shared by the callers that ask at once
    /// (`api::nvmf::nvmf_stats`).
    pub nvmf_stats: Arc<SharedRead<NvmfStats, tonic::Status>>,
    /// The switch service's status snapshots, shared the same way (`api::switch`'s
    /// GetSwitchStatus, GetPortStatus and ListPortStatuses): the switch builds each under
    /// the lock its forwarding workers take.
    pub switch_status: Arc<SharedRead<SwitchStatus, tonic::Status>>,
}

impl Services {
    pub fn get(&self, name: &str) -> Option<&Arc<ServiceHandle>> {
        self.handles.get(name)
    }

    /// The service `name`, or FAILED_PRECONDITION when the agent's configuration has no
    /// `[[services]]` entry of that name: what every call needing a service the agent does
    /// not drive gets (docs/api.md, Errors), writes of its kinds included.
    pub fn configured(&self, name: &str) -> Result<&Arc<ServiceHandle>, tonic::Status> {
        self.get(name).ok_or_else(|| {
            tonic::Status::failed_precondition(format!(
                "the {name} service is not configured on this agent \
                 ([[services]] name = \"{name}\" is not in its configuration)"
            ))
        })
    }

    /// Services `names` configured, none of them reachable: what writes of their kinds
    /// need ([`Resources`](crate::api::resource::Resources) refuses them otherwise).
    #[cfg(test)]
    pub(crate) fn unreachable(names: &[&str]) -> Self {
        let nowhere = || Channel::from_static("http://[::1]:1").connect_lazy();
        let handles = names.iter().map(|n| ((*n).to_owned(), ServiceHandle::new(n, nowhere())));
        Self { handles: handles.collect(), ..Self::default() }
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
/// until shutdown; then stops it with SIGTERM (SIGKILL after a grace period), what it started
/// with it ([`ChildGroup`]).
///
/// A service that already answers on its socket (left running by an agent that crashed) is
/// adopted instead of started again: the card keeps forwarding and serving through an agent
/// restart, and the agent only re-applies desired state to it. One that holds the socket but
/// does not answer (hung while no agent ran) is watched the same way, so it is stopped and
/// replaced rather than blocking every new start. A process started or adopted that stops
/// answering is stopped and replaced ([`watch_service`]).
pub async fn supervise_process(
    name: String,
    command: Vec<String>,
    socket: PathBuf,
    channel: Channel,
    mut shutdown: watch::Receiver<bool>,
) {
    let program = command[0].as_str();
    let mut backoff = Duration::from_millis(100);
    loop {
        if let Some((adopted, answered)) = running_service(&name, &channel, &socket, program).await
            && watch_service(&name, &channel, &socket, program, adopted, answered, &mut shutdown)
                .await
        {
            return;
        }
        let started = std::time::Instant::now();
        let child = match ChildGroup::start(&name, program, &command[1..], cgroups()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(service = %name, program, error = %e, "cannot start service");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        let cgroup = child.cgroup.as_ref().map(|c| c.cgroup.dir().display().to_string());
        tracing::info!(service = %name, pid = %child.group, cgroup, "service process started");
        let child = Serving::Child(child);
        if watch_service(&name, &channel, &socket, program, child, false, &mut shutdown).await {
            return;
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

/// A service process found running before the agent starts one: the one that answers a
/// probe (its pid from the answer), else the one that holds the socket without answering.
/// Whether it answered goes with it. The log names the process group it is stopped with
/// (`group`), if any, and the wrapper leading that group (`wrapper`), if not itself.
async fn running_service(
    name: &str,
    channel: &Channel,
    socket: &Path,
    program: &str,
) -> Option<(Serving, bool)> {
    if let Some(info) = probe(channel).await {
        let adopted = Serving::adopted(Process::of(info.pid), name, program);
        let (group, wrapper) = adopted.group_and_wrapper();
        let cgroup = adopted.cgroup();
        tracing::info!(service = %name, pid = info.pid, instance = %info.instance_id, group, wrapper, cgroup, "adopting the running service");
        return Some((adopted, true));
    }
    let holder = socket_holder(socket, name, program).await?;
    let found = Serving::adopted(Some(holder), name, program);
    let (group, wrapper) = found.group_and_wrapper();
    let cgroup = found.cgroup();
    tracing::warn!(service = %name, pid = %holder.pid, group, wrapper, cgroup, "a service process holds the socket but does not answer; stopping it unless it answers");
    Some((found, false))
}

/// The process serving a supervised service.
enum Serving {
    /// Started by this agent.
    Child(ChildGroup),
    /// Found running (`process`; `None` when its pid could not be seen: nothing is ever
    /// signalled then) and, if there is one, the cgroup an agent made for it
    /// ([`Cgroups::made_for`]) or else the process group the agent that started it made for it
    /// ([`ServiceGroup::of`]): stopped whole, as that agent would have stopped it; else the
    /// process alone.
    Adopted { process: Option<Process>, cgroup: Option<ServiceCgroup>, group: Option<ServiceGroup> },
}

impl Serving {
    /// The process `process` found running, as the service `name` started from `program`.
    fn adopted(process: Option<Process>, name: &str, program: &str) -> Self {
        let cgroup = process.and_then(|p| cgroups()?.made_for(p, name));
        let group = process.and_then(|p| ServiceGroup::of(p, program));
        Self::Adopted { process, cgroup, group }
    }

    /// For the log: the cgroup it is stopped with, if any.
    fn cgroup(&self) -> Option<String> {
        let cgroup = match self {
            Self::Child(child) => child.cgroup.as_ref(),
            Self::Adopted { cgroup, .. } => cgroup.as_ref(),
        };
        cgroup.map(|c| c.cgroup.dir().display().to_string())
    }

    fn pid(&self) -> Option<u32> {
        match self {
            Self::Child(child) => child.child.id(),
            Self::Adopted { process, .. } => {
                process.and_then(|p| u32::try_from(p.pid.as_raw()).ok())
            }
        }
    }

    /// For the log: the group a found process is stopped with, and that group's leader
    /// when it is not the process itself (the wrapper that started it).
    fn group_and_wrapper(&self) -> (Option<i32>, Option<i32>) {
        let Self::Adopted { group: Some(g), .. } = self else { return (None, None) };
        let wrapper = (g.leader != g.process).then_some(g.leader.pid.as_raw());
        (Some(g.id.as_raw()), wrapper)
    }

    /// Ends when a child exits; an adopted process is not ours to wait for (its end shows
    /// as missed probes).
    async fn exited(&mut self) -> std::io::Result<std::process::ExitStatus> {
        match self {
            Self::Child(child) => child.child.wait().await,
            Self::Adopted { .. } => std::future::pending().await,
        }
    }

    async fn stop(&mut self, name: &str) {
        match self {
            Self::Child(child) => stop(name, child).await,
            Self::Adopted { cgroup: Some(cgroup), .. } => stop(name, cgroup).await,
            Self::Adopted { group: Some(group), .. } => stop(name, group).await,
            Self::Adopted { process: Some(process), .. } => stop(name, process).await,
            Self::Adopted { process: None, .. } => {}
        }
    }

    /// Whether it is what listens on `socket`: a process of its cgroup or, without one, of
    /// its group (the child's, or the one found with an adopted process), since a wrapper's
    /// child serves, or the adopted process itself.
    async fn holds(&self, socket: &Path, name: &str, program: &str) -> bool {
        let Some(holder) = socket_holder(socket, name, program).await else { return false };
        let in_group =
            |group: nix::unistd::Pid| holder.stat().is_some_and(|s| s.pgrp == group.as_raw());
        match self {
            Self::Child(ChildGroup { cgroup: Some(cgroup), .. })
            | Self::Adopted { cgroup: Some(cgroup), .. } => cgroup.holds(holder),
            Self::Child(child) => in_group(child.group),
            Self::Adopted { group: Some(group), .. } => in_group(group.id),
            Self::Adopted { process, .. } => *process == Some(holder),
        }
    }
}

/// Probes a service process every [`PROBE_INTERVAL`] until it exits (a child), stops
/// answering or another process answers for the service (an adopted one): returns false,
/// start a new one. Or until the agent shuts down: stops it and returns true.
///
/// A process that answered (`answered` when it was found answering) or holds the socket
/// and then misses [`HUNG_AFTER_MISSES`] probes in a row is hung: a hung process still holds
/// its socket, so a new one could not bind it, and it is stopped first (SIGTERM, SIGKILL
/// after a grace; a child with its whole process group). A child that has not bound its
/// socket yet is starting, not hung. A child that exits takes the rest of its group with it
/// (a wrapper's service, whose socket the next instance needs).
async fn watch_service(
    name: &str,
    channel: &Channel,
    socket: &Path,
    program: &str,
    mut serving: Serving,
    mut answered: bool,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let mut misses = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PROBE_INTERVAL) => {}
            status = serving.exited() => {
                tracing::warn!(service = %name, status = ?status, "service process exited; restarting");
                serving.stop(name).await;
                return false;
            }
            _ = shutdown.changed() => {
                serving.stop(name).await;
                return true;
            }
        }
        match probe(channel).await {
            // Signals go to an adopted process only while it is the one serving. (A child
            // may exec its service through a wrapper, so its answers may bear another pid.)
            Some(info)
                if matches!(serving, Serving::Adopted { .. })
                    && serving.pid() != Some(info.pid) =>
            {
                return false;
            }
            Some(_) => {
                misses = 0;
                answered = true;
            }
            None if answered || serving.holds(socket, name, program).await => {
                misses += 1;
                if misses >= HUNG_AFTER_MISSES {
                    tracing::warn!(service = %name, pid = serving.pid(), "service stopped answering; stopping it and starting a new one");
                    serving.stop(name).await;
                    return false;
                }
            }
            None => {}
        }
    }
}

/// The process listening on `socket`, if it runs `program` (the service's binary, as the
/// agent would start it), or the process group an agent made for it is led by a process
/// running `program` (a wrapper, e.g. `sh -c`, that forked the service; [`ServiceGroup::of`]),
/// or it runs in the cgroup an agent made for the service `name` ([`Cgroups::made_for`]):
/// the kernel names the listener of a Unix socket to whoever connects (SO_PEERCRED,
/// unix(7)), also while it hangs, since connections wait in its backlog. Any other process,
/// or one the agent cannot see, is `None`: never signalled.
async fn socket_holder(socket: &Path, name: &str, program: &str) -> Option<Process> {
    let stream = tokio::time::timeout(PROBE_TIMEOUT, tokio::net::UnixStream::connect(socket))
        .await
        .ok()?
        .ok()?;
    // 0 when the listener is in another pid namespace or gone.
    let pid = stream.peer_cred().ok()?.pid().filter(|p| *p > 0)?;
    let process = Process::of(u32::try_from(pid).ok()?)?;
    let wrapped = || ServiceGroup::of(process, program).is_some_and(|g| g.leader != process);
    let in_cgroup = || cgroups().and_then(|c| c.made_for(process, name)).is_some();
    (process.runs_program(program) || wrapped() || in_cgroup()).then_some(process)
}

/// A process as started: its pid and its start time (`/proc/PID/stat` field 22, clock ticks
/// since boot), which a later process given the same pid does not share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Process {
    pid: nix::unistd::Pid,
    start_time: u64,
}

impl Process {
    /// The process `pid` now, if it exists.
    fn of(pid: u32) -> Option<Self> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).ok()?);
        let start_time = stat(pid.as_raw())?.start_time;
        Some(Self { pid, start_time })
    }

    /// Its `/proc/PID/stat` while it still runs: not gone, not a zombie its parent has not
    /// reaped, and its pid not another process's now.
    fn stat(self) -> Option<dpu_runtime::process::Stat> {
        stat(self.pid.as_raw()).filter(|s| s.start_time == self.start_time && s.runs())
    }

    fn runs(self) -> bool {
        self.stat().is_some()
    }

    /// Its cgroup, as `/proc/PID/cgroup` names it, read while its pid is still its own
    /// (the file read was not that of a process that took the pid since).
    fn cgroup_path(self) -> Option<String> {
        let path = cgroup::path_of(Some(u32::try_from(self.pid.as_raw()).ok()?)).ok()?;
        self.runs().then_some(path)
    }

    /// Whether its executable is `program`, found as starting `program` would find it (a
    /// bare name on PATH). One whose file was replaced since it started (an upgrade) counts.
    fn runs_program(self, program: &str) -> bool {
        let Ok(exe) = std::fs::read_link(format!("/proc/{}/exe", self.pid)) else {
            return false;
        };
        let exe = exe.to_string_lossy();
        let exe = exe.strip_suffix(" (deleted)").unwrap_or(&exe);
        program_path(program).is_some_and(|p| p == Path::new(exe))
    }
}

/// The file `program` names, canonical as /proc/PID/exe shows it: a path, else the first
/// match on PATH (as execvp(3) looks).
fn program_path(program: &str) -> Option<PathBuf> {
    let file = if program.contains('/') {
        PathBuf::from(program)
    } else {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())?
    };
    file.canonicalize().ok()
}

/// Polls `done` every 50 ms until it holds (true) or `deadline` passed (false).
async fn poll_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What stopping a service signals: the process group an agent made for it (its child's,
/// [`ChildGroup`], or one found running, [`ServiceGroup`]), or a process found running
/// outside such a group alone ([`Process`]).
trait Stoppable {
    /// Sends `signal` to all of it, if any of it still runs ([`runs`](Self::runs)).
    fn signal(&mut self, signal: nix::sys::signal::Signal);
    /// Whether any of it still runs (zombies do not count), as far as the agent can tell
    /// its pid or group id still names it: one that may name another process or group now
    /// (the id freed and given out again) counts as gone, and is never signalled.
    fn runs(&mut self) -> bool;
    /// Waits until the agent's own child among it exited and is reaped (at once without).
    async fn reaped(&mut self);
    /// What it is, for the log.
    fn describe(&self) -> String;
    /// Tidies up once it is stopped (or given up on): a cgroup goes.
    fn release(&mut self, _name: &str) {}
}

/// Stops a service: SIGTERM, then SIGKILL if any of it still runs after [`STOP_GRACE`], and
/// waits ([`KILL_WAIT`] at most) until none of it runs, so a new instance does not find the
/// old one still holding its socket (as systemd stops a unit: SIGTERM, SIGKILL after
/// TimeoutStopSec, to every process of its control group).
async fn stop(name: &str, target: &mut impl Stoppable) {
    terminate(name, target).await;
    target.release(name);
}

/// [`stop`] but for the tidying up.
async fn terminate(name: &str, target: &mut impl Stoppable) {
    use nix::sys::signal::Signal;
    let deadline = Instant::now() + STOP_GRACE;
    target.signal(Signal::SIGTERM);
    // The child first (reaped as it exits), then what it leaves of its group.
    let stopped = tokio::time::timeout_at(deadline, target.reaped()).await.is_ok()
        && poll_until(deadline, || !target.runs()).await;
    if stopped {
        return;
    }
    let what = target.describe();
    tracing::warn!(service = %name, what, "service did not stop on SIGTERM; killing it");
    target.signal(Signal::SIGKILL);
    target.reaped().await;
    if !poll_until(Instant::now() + KILL_WAIT, || !target.runs()).await {
        tracing::warn!(service = %name, what, "service still runs after SIGKILL; starting a new one all the same");
    }
}

/// A process found running that is in no process group an agent made for it: only it is
/// signalled, and only while its pid is still its own.
impl Stoppable for Process {
    fn signal(&mut self, signal: nix::sys::signal::Signal) {
        if self.runs() {
            let _ = nix::sys::signal::kill(self.pid, signal);
        }
    }

    fn runs(&mut self) -> bool {
        Process::runs(*self)
    }

    async fn reaped(&mut self) {}

    fn describe(&self) -> String {
        format!("process {}", self.pid)
    }
}

/// The process group an earlier agent made for a service it started (it leads the group,
/// or the wrapper of its `command` that forked it does), found with the service running
/// after that agent ended: stopped whole, as that agent would have stopped it
/// ([`ChildGroup`]), the wrapper and whatever else it started included.
#[derive(Debug)]
struct ServiceGroup {
    id: nix::unistd::Pid,
    /// The service process found in it.
    process: Process,
    /// The group's leader (its pid is the group's id): `process` itself or the wrapper.
    leader: Process,
    /// Whether `id` was the group's at the last look ([`Stoppable::runs`]).
    seen: bool,
}

impl ServiceGroup {
    /// The process group of `process` if an agent made it for the service started from
    /// `program`, as far as the agent can tell: not the agent's own group, and its leader
    /// still runs and is `process` or runs `program` (the wrapper an agent started from the
    /// same `command`). A process an operator started by hand (from a script, whose shell
    /// leads the group; in the agent's own group) is in none: only it is signalled.
    fn of(process: Process, program: &str) -> Option<Self> {
        let id = process.stat()?.pgrp;
        if id <= 0 || id == nix::unistd::getpgrp().as_raw() {
            return None;
        }
        let leader = if id == process.pid.as_raw() {
            process
        } else {
            let leader = Process::of(u32::try_from(id).ok()?)?;
            (leader.runs() && leader.runs_program(program)).then_some(leader)?
        };
        Some(Self { id: nix::unistd::Pid::from_raw(id), process, leader, seen: false })
    }
}

impl Stoppable for ServiceGroup {
    fn signal(&mut self, signal: nix::sys::signal::Signal) {
        if self.runs() {
            let _ = nix::sys::signal::killpg(self.id, signal);
        }
    }

    /// The group's id is its own while the process found or the leader still runs in it
    /// (their start times tell them, as [`Process`] does), and then for as long as any of
    /// the group is seen running at each look: the kernel gives out no pid, so no group id,
    /// still in use. Once none runs, the id is never signalled again.
    fn runs(&mut self) -> bool {
        let known = [self.process, self.leader]
            .iter()
            .any(|p| p.stat().is_some_and(|s| s.pgrp == self.id.as_raw()));
        self.seen = known || (self.seen && group_runs(self.id.as_raw()));
        self.seen
    }

    async fn reaped(&mut self) {}

    fn describe(&self) -> String {
        format!("process group {}", self.id)
    }
}

/// A service process the agent started, leading a process group of its own (the group's id
/// is its pid) that holds whatever it starts. The `command` may be a wrapper (`sh -c`, a
/// script) that runs the service as its child rather than exec'ing it: signalling only the
/// wrapper would leave the service running and holding its socket, so signals go to the
/// whole group, as systemd's KillMode=control-group sends them to every process of a unit.
///
/// Where the agent can write a cgroup2 hierarchy ([`cgroups`]), the child also starts in a
/// cgroup of its own, which holds even what leaves the group (`setsid`, a daemon's double
/// fork): it is what a stop signals then ([`ServiceCgroup`]), as systemd's `cgroup.kill`.
struct ChildGroup {
    child: tokio::process::Child,
    group: nix::unistd::Pid,
    cgroup: Option<ServiceCgroup>,
}

impl ChildGroup {
    /// Starts the service `name` from `program`, in a fresh cgroup under `cgroups` if given
    /// and it can be made (else with its process group alone, logged).
    fn start(
        name: &str,
        program: &str,
        args: &[String],
        cgroups: Option<&Cgroups>,
    ) -> std::io::Result<Self> {
        let command = || {
            let mut command = tokio::process::Command::new(program);
            command
                .args(args)
                // A group of its own (see above); also, a Ctrl-C at the agent's terminal then
                // reaches the agent alone, which stops the service itself.
                .process_group(0)
                // In a background group, reading the terminal would stop it (SIGTTIN) as if
                // hung.
                .stdin(std::process::Stdio::null());
            command
        };
        let mut first = command();
        let cgroup = cgroups.and_then(|c| match c.create(name, first.as_std_mut()) {
            Ok(cgroup) => Some(cgroup),
            Err(e) => {
                tracing::warn!(service = %name, error = %e, "no cgroup for the service; its process group holds it");
                None
            }
        });
        let (child, cgroup) = match (first.spawn(), cgroup) {
            (Ok(child), cgroup) => (child, cgroup),
            (Err(e), None) => return Err(e),
            // The move into the cgroup may be what failed (a hierarchy that takes new
            // cgroups but not processes): the service starts held by its process group
            // alone, as without cgroups, rather than never.
            (Err(e), Some(mut cgroup)) => {
                cgroup.release(name);
                let child = command().spawn()?;
                tracing::warn!(service = %name, error = %e, "could not start the service in its cgroup; its process group holds it");
                (child, None)
            }
        };
        let pid = child.id().and_then(|p| i32::try_from(p).ok());
        let group = pid.ok_or_else(|| std::io::Error::other("the started process has no pid"))?;
        Ok(Self { child, group: nix::unistd::Pid::from_raw(group), cgroup })
    }

    /// Sends `signal` to the group, if any of it is left: while the child is not reaped or a
    /// process of the group lives, the group's id is in use, and the kernel gives no new
    /// process a pid in use, so the id names no other group.
    fn signal(&self, signal: nix::sys::signal::Signal) {
        if self.child.id().is_some() || group_runs(self.group.as_raw()) {
            let _ = nix::sys::signal::killpg(self.group, signal);
        }
    }
}

/// Stopping a child stops the rest of its cgroup, or without one its group, too ([`stop`]);
/// for a child that exited already, what it left of them.
impl Stoppable for ChildGroup {
    fn signal(&mut self, signal: nix::sys::signal::Signal) {
        match &mut self.cgroup {
            Some(cgroup) => cgroup.signal(signal),
            None => ChildGroup::signal(self, signal),
        }
    }

    fn runs(&mut self) -> bool {
        match &mut self.cgroup {
            Some(cgroup) => cgroup.runs(),
            None => group_runs(self.group.as_raw()),
        }
    }

    async fn reaped(&mut self) {
        let _ = self.child.wait().await;
    }

    fn describe(&self) -> String {
        match &self.cgroup {
            Some(cgroup) => cgroup.describe(),
            None => format!("process group {}", self.group),
        }
    }

    fn release(&mut self, name: &str) {
        if let Some(mut cgroup) = self.cgroup.take() {
            cgroup.release(name);
        }
    }
}

impl Drop for ChildGroup {
    /// A child dropped unstopped (the agent's task cancelled) takes its cgroup or group with
    /// it, where `kill_on_drop` would take the child alone. Nothing waits here: the cgroup,
    /// once its processes are gone, is removed by a thread of its own.
    fn drop(&mut self) {
        let Some(cgroup) = self.cgroup.take() else {
            self.signal(nix::sys::signal::Signal::SIGKILL);
            return;
        };
        let _ = std::thread::Builder::new()
            .name("cgroup-removal".into())
            .spawn(move || kill_and_remove(&cgroup.cgroup));
    }
}

/// Kills everything in `cgroup`, waits (blocking, [`KILL_WAIT`] at most) until it is empty
/// and removes it.
fn kill_and_remove(cgroup: &Cgroup) {
    let _ = cgroup.kill();
    let deadline = std::time::Instant::now() + KILL_WAIT;
    while cgroup.populated().unwrap_or(false) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = cgroup.remove();
}

/// Where the agent can hold the services it starts in cgroups: the cgroup2 hierarchy and
/// the agent's own cgroup in it, under which each service started gets a fresh child
/// cgroup, named `dpud.<service>.<agent pid>.<n>` ([`CGROUP_PREFIX`]) so that a later agent
/// recognises one made for a service it finds running, and agents running side by side
/// (tests) never take each other's.
#[derive(Debug)]
struct Cgroups {
    hierarchy: Hierarchy,
    /// The agent's own cgroup, as `/proc/self/cgroup` names it.
    own_path: String,
    own: Cgroup,
    next: AtomicU64,
}

/// The start of the name of every cgroup an agent makes for a service.
const CGROUP_PREFIX: &str = "dpud.";

/// The agent's [`Cgroups`], found once; `None` where there is no cgroup2 hierarchy the agent
/// can write (a container, a unit without `Delegate=yes`): then process groups alone hold
/// the services, as said once in the log.
fn cgroups() -> Option<&'static Cgroups> {
    cgroups_found().as_ref().ok()
}

fn cgroups_found() -> &'static Result<Cgroups, cgroup::Error> {
    static FOUND: OnceLock<Result<Cgroups, cgroup::Error>> = OnceLock::new();
    FOUND.get_or_init(|| {
        let found = Cgroups::find();
        match &found {
            Ok(c) => {
                tracing::info!(parent = %c.own.dir().display(), "each service started gets a cgroup of its own");
                c.remove_left();
            }
            Err(e) => {
                tracing::info!(reason = %e, "no cgroup2 hierarchy the agent can write; services started are held by their process groups alone");
            }
        }
        found
    })
}

impl Cgroups {
    /// The hierarchy and the agent's own cgroup, which must take a child cgroup (one is made
    /// and removed to tell).
    fn find() -> Result<Self, cgroup::Error> {
        let hierarchy = Hierarchy::find()?;
        let own_path = cgroup::path_of(None)?;
        let own = hierarchy.cgroup(&own_path)?;
        let probe = format!("dpud-probe.{}", std::process::id());
        // One an earlier agent of this pid left when it was killed.
        let _ = own.child(&probe).remove();
        own.create_child(&probe)?.remove()?;
        Ok(Self { hierarchy, own_path, own, next: AtomicU64::new(0) })
    }

    /// A fresh cgroup for the service `name`, which `command` will start its process in.
    fn create(
        &self,
        name: &str,
        command: &mut std::process::Command,
    ) -> Result<ServiceCgroup, cgroup::Error> {
        let agent = std::process::id();
        let mut tries = 0;
        let cgroup = loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            match self.own.create_child(&format!("{CGROUP_PREFIX}{name}.{agent}.{n}")) {
                // Left by an earlier agent of this pid: another number.
                Err(e) if e.io_kind() == Some(std::io::ErrorKind::AlreadyExists) && tries < 16 => {
                    tries += 1;
                }
                made => break made?,
            }
        };
        let mut cgroup = ServiceCgroup { cgroup };
        if let Err(e) = cgroup.cgroup.spawn_into(command) {
            cgroup.release(name);
            return Err(e);
        }
        Ok(cgroup)
    }

    /// Removes the empty cgroups that agents no longer running made under this agent's own
    /// cgroup: an agent killed (a crash, SIGKILL) leaves its services' cgroups, and one whose
    /// service then ended, or was stopped by a later agent that did not adopt it, stays
    /// empty for good otherwise. One still holding a process is kept (the kernel removes no
    /// populated cgroup), as is every one of a running agent. Done once, when the agent
    /// finds its cgroups.
    fn remove_left(&self) {
        for (cgroup, agent) in self.made() {
            if Process::of(agent).is_none_or(|p| !p.runs()) {
                let _ = cgroup.remove();
            }
        }
    }

    /// The cgroups under this agent's own cgroup that an agent made for a service, with
    /// that agent's pid.
    fn made(&self) -> Vec<(Cgroup, u32)> {
        let Ok(entries) = std::fs::read_dir(self.own.dir()) else { return Vec::new() };
        entries
            .flatten()
            .filter_map(|entry| {
                let base = entry.file_name();
                let base = base.to_str()?;
                let (_, agent) = service_cgroup_name(base)?;
                Some((self.own.child(base), agent))
            })
            .collect()
    }

    /// The cgroup `process` runs in, if it is one an agent made for the service `name`
    /// (its name, directly under this agent's own cgroup) and `process` still runs.
    fn made_for(&self, process: Process, name: &str) -> Option<ServiceCgroup> {
        let path = process.cgroup_path()?;
        let (parent, base) = path.rsplit_once('/')?;
        if parent != self.own_path.trim_end_matches('/') || !made_for_service(base, name) {
            return None;
        }
        Some(ServiceCgroup { cgroup: self.hierarchy.cgroup(&path).ok()? })
    }
}

/// Whether `base` is the name of a cgroup an agent makes for the service `name`.
fn made_for_service(base: &str, name: &str) -> bool {
    service_cgroup_name(base).is_some_and(|(service, _)| service == name)
}

/// The service and the agent's pid a cgroup an agent made is named for:
/// `dpud.<service>.<agent pid>.<n>`.
fn service_cgroup_name(base: &str) -> Option<(&str, u32)> {
    let mut numbers = base.strip_prefix(CGROUP_PREFIX)?.rsplitn(3, '.');
    let (n, pid, service) = (numbers.next()?, numbers.next()?, numbers.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(n) && digits(pid)).then_some((service, pid.parse().ok()?))
}

/// Kills what is left in the cgroups the agent `agent` (its pid) made for its services and
/// removes them, waiting for each to empty: for the tests, which kill agents and services
/// as a power cut would, and must leave no cgroup behind (those of other agents running
/// side by side are theirs).
pub fn remove_cgroups_of(agent: u32) {
    let Some(cgroups) = cgroups() else { return };
    for (cgroup, _) in cgroups.made().into_iter().filter(|(_, a)| *a == agent) {
        kill_and_remove(&cgroup);
    }
}

/// The cgroup an agent made for a service it started (its own child's, or one found
/// running): everything in it is the service's, whatever process group or session it went
/// to, so a stop signals all of it (re-listed at each signal) and kills it with
/// `cgroup.kill` after the grace, then removes the cgroup (as systemd stops a unit with
/// KillMode=control-group).
#[derive(Debug)]
struct ServiceCgroup {
    cgroup: Cgroup,
}

impl ServiceCgroup {
    /// Whether `process` runs in it.
    fn holds(&self, process: Process) -> bool {
        let Some(path) = process.cgroup_path() else { return false };
        cgroups().and_then(|c| c.hierarchy.cgroup(&path).ok()).is_some_and(|c| c == self.cgroup)
    }
}

impl Stoppable for ServiceCgroup {
    /// A pid listed is in the cgroup until it is reaped, so the kill reaches it (a pid freed
    /// between the read and the kill is the one race, as for systemd's per-pid signals).
    fn signal(&mut self, signal: nix::sys::signal::Signal) {
        if signal == nix::sys::signal::Signal::SIGKILL {
            let _ = self.cgroup.kill();
            return;
        }
        for pid in self.cgroup.procs().unwrap_or_default() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
        }
    }

    fn runs(&mut self) -> bool {
        self.cgroup.populated().unwrap_or(false)
    }

    async fn reaped(&mut self) {}

    fn describe(&self) -> String {
        format!("cgroup {}", self.cgroup.dir().display())
    }

    /// Removes the cgroup, once empty; one removed already is fine.
    fn release(&mut self, name: &str) {
        match self.cgroup.remove() {
            Err(e) if e.io_kind() != Some(std::io::ErrorKind::NotFound) => {
                tracing::warn!(service = %name, error = %e, "the service's cgroup is left");
            }
            _ => {}
        }
    }
}

/// A fake service (its `ServiceControl` served over a Unix socket, as every service serves it)
/// and a fake reconciler, driven by a [`ServiceHandle`]'s loop: for the tests of the loop, and of
/// what nudges it.
#[cfg(test)]
pub(crate) mod fake {
    use std::sync::atomic::AtomicU64;

    use dpu_proto::dpu::internal::v1::ServiceInfo;
    use dpu_proto::dpu::internal::v1::service_control_server::{
        ServiceControl, ServiceControlServer,
    };
    use dpu_proto::dpu::system::v1::ApplyState;
    use tokio::task::JoinHandle;

    use super::*;
    use crate::api::resource::Statuses;

    /// A service whose identity the test changes (a restart, a status change), which counts
    /// the probes and refuses them while `refuse` holds a message.
    #[derive(Clone, Default)]
    pub(crate) struct FakeService {
        pub(crate) info: Arc<Mutex<ServiceInfo>>,
        pub(crate) probes: Arc<AtomicU64>,
        pub(crate) refuse: Arc<Mutex<Option<String>>>,
    }

    #[tonic::async_trait]
    impl ServiceControl for FakeService {
        async fn get_service_info(
            &self,
            _request: tonic::Request<GetServiceInfoRequest>,
        ) -> Result<tonic::Response<ServiceInfo>, tonic::Status> {
            self.probes.fetch_add(1, Ordering::SeqCst);
            if let Some(message) = self.refuse.lock().unwrap().clone() {
                return Err(tonic::Status::unavailable(message));
            }
            Ok(tonic::Response::new(self.info.lock().unwrap().clone()))
        }
    }

    /// Records when each sync happened; fails them while `fail` holds a message. A sync that
    /// succeeds reports one object, [`FAKE_OBJECT`], applied.
    #[derive(Default)]
    pub(crate) struct FakeReconciler {
        pub(crate) syncs: Mutex<Vec<Instant>>,
        pub(crate) fail: Mutex<Option<String>>,
        pub(crate) statuses: Statuses<ApplyState>,
        /// How many objects a sync that succeeds reports FAILED.
        pub(crate) failed_objects: Mutex<usize>,
        /// The store whose revision a sync reads before it "sends" (none: revision 0).
        pub(crate) store: Mutex<Option<dpu_store::Store>>,
    }

    /// The object the fake service reports on (created at 0).
    pub(crate) const FAKE_OBJECT: &str = "fakes/one";

    #[tonic::async_trait]
    impl Reconciler for FakeReconciler {
        async fn sync(&self, _channel: Channel) -> Result<Synced, tonic::Status> {
            self.syncs.lock().unwrap().push(Instant::now());
            let revision =
                self.store.lock().unwrap().as_ref().map_or(0, dpu_store::Store::revision);
            if let Some(message) = self.fail.lock().unwrap().clone() {
                return Err(tonic::Status::unavailable(message));
            }
            self.statuses.replace([(FAKE_OBJECT.to_owned(), 0, ApplyState::Applied)]);
            let failed = *self.failed_objects.lock().unwrap();
            let objects_failed = dpu_proto::failed_objects((0..failed).map(|_| FAKE_OBJECT));
            Ok(Synced { failed, objects_failed, revision })
        }

        fn forget_statuses(&self) {
            self.statuses.clear();
        }
    }

    pub(crate) struct Harness {
        pub(crate) service: FakeService,
        pub(crate) reconciler: Arc<FakeReconciler>,
        pub(crate) handle: Arc<ServiceHandle>,
        pub(crate) start: Instant,
        shutdown: watch::Sender<bool>,
        task: JoinHandle<()>,
        _dir: tempfile::TempDir,
    }

    impl Harness {
        /// Serves a fake service and starts the handle's loop on it, failing every sync with
        /// `fail` if given.
        pub(crate) async fn start(fail: Option<&str>) -> Self {
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
        pub(crate) fn syncs(&self) -> Vec<Duration> {
            self.reconciler.syncs.lock().unwrap().iter().map(|t| *t - self.start).collect()
        }

        pub(crate) fn fail(&self, message: Option<&str>) {
            *self.reconciler.fail.lock().unwrap() = message.map(str::to_owned);
        }

        /// Lets the loop run until `at` from the start.
        pub(crate) async fn run_until(&self, at: Duration) {
            tokio::time::sleep_until(self.start + at).await;
        }

        pub(crate) async fn stop(self) {
            self.shutdown.send(true).unwrap();
            self.task.await.unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    //! The sync loop against the fake service and reconciler, in paused time: every probe and
    //! sync happens at an exact virtual instant.

    use super::fake::Harness;
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// The timer wheel's resolution: virtual instants may be rounded to it.
    const MS: Duration = Duration::from_millis(1);

    fn near(a: Duration, b: Duration) -> bool {
        a.abs_diff(b) <= 2 * MS
    }

    /// A sync that keeps failing is tried again after 0.5 s, 1 s, 2 s, ... up to 30 s between
    /// attempts, not on every probe; the probes go on every 0.5 s and the state says what
    /// failed.
    /// An adopted process is signalled only while its pid is still that process's: one
    /// that took the pid after it ended (another start time) is left alone.
    #[tokio::test]
    async fn stopping_an_adopted_process_spares_a_process_that_took_its_pid() {
        let mut sleeper =
            tokio::process::Command::new("sleep").arg("30").kill_on_drop(true).spawn().unwrap();
        let pid = sleeper.id().unwrap();
        let now = Process::of(pid).expect("the sleeper runs");
        let earlier = Process { start_time: now.start_time.wrapping_sub(1), ..now };
        assert!(!earlier.runs(), "another start time is another process");
        Serving::adopted(Some(earlier), "test", "sleep").stop("test").await;
        assert!(sleeper.try_wait().unwrap().is_none(), "a process that took the pid was stopped");
        Serving::adopted(Some(now), "test", "sleep").stop("test").await;
        let status = tokio::time::timeout(Duration::from_secs(5), sleeper.wait()).await;
        assert!(status.is_ok(), "the adopted process itself was not stopped");
    }

    /// `sh -c script pidfile` started as a service is (a wrapper that forks its service, as
    /// an operator's `command` may be); `pidfile`, which the script may write a pid to.
    /// Without a cgroup: the agent's fallback, its process group alone.
    fn wrapped(dir: &Path, script: &str) -> (Serving, PathBuf) {
        start_wrapped(dir, script, None)
    }

    /// [`wrapped`] in a cgroup of its own, as the service `test`.
    fn wrapped_in_cgroup(dir: &Path, script: &str) -> (Serving, PathBuf) {
        let (serving, pidfile) = start_wrapped(dir, script, Some(cgroups_here()));
        assert!(serving.cgroup().is_some(), "started outside a cgroup");
        (serving, pidfile)
    }

    fn start_wrapped(dir: &Path, script: &str, cgroups: Option<&Cgroups>) -> (Serving, PathBuf) {
        let pidfile = dir.join("pid");
        let args = ["-c", script, pidfile.to_str().unwrap()].map(String::from);
        (Serving::Child(ChildGroup::start("test", "sh", &args, cgroups).unwrap()), pidfile)
    }

    /// The agent's cgroups on this machine, which has a cgroup2 hierarchy it can write (as
    /// CI's has): a test that needs them fails, saying why, rather than being skipped.
    fn cgroups_here() -> &'static Cgroups {
        match cgroups_found() {
            Ok(c) => c,
            Err(e) => panic!("this test needs a cgroup2 hierarchy it can write: {e}"),
        }
    }

    #[test]
    fn a_cgroup_is_known_by_its_service_name() {
        assert!(made_for_service("dpud.nvmf.123.0", "nvmf"));
        assert!(made_for_service("dpud.a.b.1.22", "a.b"));
        assert_eq!(service_cgroup_name("dpud.nvmf.123.0"), Some(("nvmf", 123)));
        assert_eq!(service_cgroup_name("dpud.nvmf.99999999999.0"), None);
        for base in [
            "dpud.nvmf.123.0",
            "dpud.switch.123",
            "dpud.switch..0",
            "dpud.switch.1.",
            "dpud.switch.x.0",
            "dpud-probe.1",
            "switch.1.0",
            "",
            "dpud.",
        ] {
            assert!(!made_for_service(base, "switch"), "{base:?}");
        }
    }

    /// The process whose pid was written to `file` (a whole line), once it was.
    async fn written_pid(file: &Path) -> Process {
        for _ in 0..200 {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            if let Some(pid) = text.strip_suffix('\n').and_then(|p| p.parse().ok()) {
                return Process::of(pid).expect("the process whose pid was written runs");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no pid written to {}", file.display());
    }

    /// Stopping a service started through a wrapper that forks stops what the wrapper
    /// started too: here a process that ignores SIGTERM (as a hung one never acts on it) and
    /// outlives the wrapper, which SIGTERM ends at once. It is killed after the grace.
    #[tokio::test]
    async fn stopping_a_child_stops_its_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        // An ignored signal stays ignored across exec: the sleep ignores SIGTERM.
        let script = r#"(trap '' TERM; exec sh -c 'echo $$ > "$0"; exec sleep 60' "$0") & wait"#;
        let (mut serving, pidfile) = wrapped(dir.path(), script);
        let service = written_pid(&pidfile).await;
        serving.stop("test").await;
        assert!(!service.runs(), "the wrapper's child outlived the stop");
    }

    /// A helper that leaves the service's process group (`setsid`, as a daemonising double
    /// fork does) is stopped with the service all the same: the cgroup holds it.
    #[tokio::test]
    async fn a_helper_that_leaves_the_process_group_is_stopped_with_the_service() {
        let dir = tempfile::tempdir().unwrap();
        let script = r#"setsid sh -c 'echo $$ > "$0"; exec sleep 60' "$0" & exec sleep 60"#;
        let (mut serving, pidfile) = wrapped_in_cgroup(dir.path(), script);
        let helper = written_pid(&pidfile).await;
        let group = i32::try_from(serving.pid().unwrap()).unwrap();
        assert_ne!(helper.stat().unwrap().pgrp, group, "the helper left the group");
        let cgroup = PathBuf::from(serving.cgroup().unwrap());
        serving.stop("test").await;
        let survived = helper.runs();
        if survived {
            let _ = nix::sys::signal::kill(helper.pid, nix::sys::signal::Signal::SIGKILL);
        }
        assert!(!survived, "the helper that left the process group outlived the stop");
        assert!(!cgroup.exists(), "the cgroup was left: {}", cgroup.display());
    }

    /// A hierarchy that takes new cgroups but no process in them (here a threaded cgroup,
    /// whose new children are "domain invalid" and refuse a process: cgroup-v2.rst,
    /// "Threads"): the service starts all the same, held by its process group alone, and
    /// the cgroup made for it goes.
    #[tokio::test]
    async fn a_service_that_cannot_enter_its_cgroup_starts_without_one() {
        let here = cgroups_here();
        let parent = here.own.create_child(&format!("dpud-threaded-test.{}", std::process::id()));
        let parent = parent.unwrap();
        let threaded = parent.create_child("t").unwrap();
        let made = std::fs::write(threaded.dir().join("cgroup.type"), "threaded");
        let cgroups = Cgroups {
            hierarchy: here.hierarchy.clone(),
            own_path: String::new(),
            own: threaded.clone(),
            next: AtomicU64::new(0),
        };
        let args = ["-c", "exec sleep 60"].map(String::from);
        let started = made.map(|()| ChildGroup::start("test", "sh", &args, Some(&cgroups)));
        let (in_cgroup, ran, left) = match started {
            Ok(Ok(mut child)) => {
                let in_cgroup = child.cgroup.is_some();
                let ran = group_runs(child.group.as_raw());
                stop("test", &mut child).await;
                let left = std::fs::read_dir(threaded.dir())
                    .unwrap()
                    .flatten()
                    .any(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(CGROUP_PREFIX)));
                (in_cgroup, Ok(ran), left)
            }
            Ok(Err(e)) => (false, Err(format!("not started: {e}")), false),
            Err(e) => (false, Err(format!("no threaded cgroup: {e}")), false),
        };
        let _ = threaded.remove();
        let _ = parent.remove();
        assert_eq!(ran, Ok(true), "the service did not start");
        assert!(!in_cgroup, "it is in a cgroup that refuses processes");
        assert!(!left, "the cgroup made for it was left");
        assert!(!parent.dir().exists(), "the test's cgroups were left");
    }

    /// A service found running whose process and wrapper (its group's leader) are both gone
    /// before the stop, leaving a helper in the cgroup an agent made for it: the helper is
    /// stopped (its process group could no longer be told from another with its id).
    #[tokio::test]
    async fn a_found_service_gone_with_its_wrapper_takes_its_helper_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let script = r#"sleep 60 & echo $! > "$0.helper"; sleep 60 & echo $! > "$0"; wait"#;
        let (mut child, pidfile) = wrapped_in_cgroup(dir.path(), script);
        let service = written_pid(&pidfile).await;
        let helper = written_pid(&dir.path().join("pid.helper")).await;
        let mut found = Serving::adopted(Some(service), "test", "sh");
        assert_eq!(found.cgroup(), child.cgroup(), "the cgroup made for it");
        assert_eq!(Serving::adopted(Some(service), "other", "sh").cgroup(), None);
        let wrapper = Process::of(child.pid().unwrap()).unwrap();
        for p in [service, wrapper] {
            nix::sys::signal::kill(p.pid, nix::sys::signal::Signal::SIGKILL).unwrap();
        }
        let _ = child.exited().await;
        assert!(poll_until(Instant::now() + KILL_WAIT, || !service.runs()).await);
        found.stop("test").await;
        let spared = helper.runs();
        if spared {
            let _ = nix::sys::signal::kill(helper.pid, nix::sys::signal::Signal::SIGKILL);
        }
        child.stop("test").await;
        assert!(!spared, "the helper left in the service's cgroup was spared");
    }

    /// A wrapper that exits leaving what it started running (a service that would keep its
    /// socket from the next instance) takes it with it: the rest of its process group is
    /// stopped before the agent starts another (its cgroup, when it has one, goes too).
    #[tokio::test]
    async fn a_wrapper_that_exits_takes_its_process_group_with_it() {
        for in_cgroup in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let script = r#"sleep 60 & echo $! > "$0""#;
            let (serving, pidfile) =
                start_wrapped(dir.path(), script, in_cgroup.then(cgroups_here));
            let cgroup = serving.cgroup();
            let service = written_pid(&pidfile).await;
            let socket = dir.path().join("none.sock");
            let channel = dpu_runtime::unix::channel(&socket);
            let (_shutdown, mut watch) = watch::channel(false);
            let shut_down =
                watch_service("test", &channel, &socket, "sh", serving, false, &mut watch).await;
            assert!(!shut_down, "a service that exited is started again");
            assert!(!service.runs(), "the wrapper's child outlived the wrapper's exit");
            assert_eq!(cgroup.is_some(), in_cgroup);
            assert!(cgroup.is_none_or(|c| !Path::new(&c).exists()), "its cgroup was left");
        }
    }

    /// A service started through a wrapper that forks, which binds its socket and never
    /// answers (hung from the start), is hung like one that answered first: the process
    /// holding the socket is in the child's process group, though it is not the child.
    #[tokio::test]
    async fn a_wrapped_service_that_binds_and_never_answers_is_found_hung() {
        // Listens on `$0.sock` and answers nothing; `; :` keeps sh from exec'ing it.
        let script = r#"python3 -c 'import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
open(sys.argv[2], "w").write("%d\n" % os.getpid())
time.sleep(60)' "$0.sock" "$0"; :"#;
        let dir = tempfile::tempdir().unwrap();
        let (serving, pidfile) = wrapped(dir.path(), script);
        let service = written_pid(&pidfile).await;
        let socket = dir.path().join("pid.sock");
        let channel = dpu_runtime::unix::channel(&socket);
        let (_shutdown, mut watch) = watch::channel(false);
        let watched = watch_service("test", &channel, &socket, "sh", serving, false, &mut watch);
        let ended = tokio::time::timeout(Duration::from_secs(30), watched).await;
        assert_eq!(ended, Ok(false), "not found hung: the wrapper's child holds the socket");
        assert!(!service.runs(), "the hung service was left running");
    }

    /// A socket held in the child's cgroup is the child's, also by a process that left its
    /// process group (`setsid`) and runs another program than the service's: found hung
    /// like any other. One found so at start is taken for the service too.
    #[tokio::test]
    async fn a_socket_held_in_the_childs_cgroup_is_the_childs() {
        let dir = tempfile::tempdir().unwrap();
        let script = r#"setsid python3 -c 'import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
open(sys.argv[2], "w").write("%d\n" % os.getpid())
time.sleep(60)' "$0.sock" "$0"; :"#;
        let (mut serving, pidfile) = wrapped_in_cgroup(dir.path(), script);
        let listener = written_pid(&pidfile).await;
        let socket = dir.path().join("pid.sock");
        assert!(serving.holds(&socket, "test", "sh").await, "the socket is not the child's");
        assert_eq!(socket_holder(&socket, "test", "sh").await, Some(listener));
        assert_eq!(socket_holder(&socket, "other", "sh").await, None, "another service's");
        serving.stop("test").await;
        assert!(!listener.runs());
    }

    /// A process found running whose process group the agent that started it made (its
    /// leader runs the service's program: a wrapper that forked it) is stopped with that
    /// group, as that agent would have stopped it: here the wrapper, which goes on running
    /// once its service (the first `sleep`) is gone, goes too.
    #[tokio::test]
    async fn an_adopted_process_is_stopped_with_the_group_its_wrapper_leads() {
        let dir = tempfile::tempdir().unwrap();
        // The child stays the test's until the end: dropped, it would kill its group.
        let (child, pidfile) = wrapped(dir.path(), r#"sleep 60 & echo $! > "$0"; sleep 60"#);
        let wrapper = Process::of(child.pid().unwrap()).unwrap();
        let service = written_pid(&pidfile).await;
        Serving::adopted(Some(service), "test", "sh").stop("test").await;
        assert!(!service.runs(), "the adopted process was not stopped");
        assert!(!wrapper.runs(), "its wrapper outlived it");
    }

    /// A process found running in a group no agent made for it is stopped alone: one in the
    /// agent's own process group (here the test's), or one in a group whose leader runs
    /// another program than the service's (as a shell leads the jobs an operator starts by
    /// hand). The rest of that group is never signalled.
    #[tokio::test]
    async fn a_process_outside_a_group_made_for_it_is_stopped_alone() {
        let mut sleeper =
            tokio::process::Command::new("sleep").arg("60").kill_on_drop(true).spawn().unwrap();
        let in_own_group = Process::of(sleeper.id().unwrap()).unwrap();
        assert!(ServiceGroup::of(in_own_group, "sleep").is_none(), "the agent's own group");
        Serving::adopted(Some(in_own_group), "test", "sleep").stop("test").await;
        let status = tokio::time::timeout(Duration::from_secs(5), sleeper.wait()).await;
        assert!(status.is_ok(), "the process itself was not stopped");

        let dir = tempfile::tempdir().unwrap();
        let (child, pidfile) = wrapped(dir.path(), r#"sleep 60 & echo $! > "$0"; sleep 60"#);
        let shell = Process::of(child.pid().unwrap()).unwrap();
        let service = written_pid(&pidfile).await;
        assert!(ServiceGroup::of(service, "sleep").is_none(), "a group led by another program");
        Serving::adopted(Some(service), "test", "sleep").stop("test").await;
        assert!(!service.runs(), "the process itself was not stopped");
        assert!(shell.runs(), "the rest of its group was signalled");
    }

    /// A group found with a service is signalled only while the service or the group's
    /// leader still runs in it (their start times tell them from processes that took their
    /// pids later): once neither is known, its id may name another group.
    #[tokio::test]
    async fn a_found_group_whose_processes_are_not_known_any_more_is_spared() {
        let dir = tempfile::tempdir().unwrap();
        let (child, pidfile) = wrapped(dir.path(), r#"sleep 60 & echo $! > "$0"; wait"#);
        let service = written_pid(&pidfile).await;
        let mut group = ServiceGroup::of(service, "sh").expect("the wrapper's group");
        let earlier = |p: Process| Process { start_time: p.start_time.wrapping_sub(1), ..p };
        group.process = earlier(group.process);
        group.leader = earlier(group.leader);
        stop("test", &mut group).await;
        assert!(service.runs(), "a group not known to be the service's any more was stopped");
        drop(child);
    }

    /// The process listening on a socket is found though it accepts nothing (as a hung one),
    /// and only when it runs the service's program: a process running anything else is
    /// never taken for the service (so never signalled).
    #[tokio::test]
    async fn the_socket_holder_is_found_only_when_it_runs_the_program() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.sock");
        let _never_accepts = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let this = std::env::current_exe().unwrap();
        let this = this.to_str().unwrap();
        let holder = socket_holder(&path, "test", this).await.expect("the listener is found");
        assert_eq!(holder, Process::of(std::process::id()).unwrap());
        assert_eq!(socket_holder(&path, "test", "sleep").await, None, "another program");
        assert_eq!(socket_holder(&dir.path().join("none.sock"), "test", this).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_sync_is_retried_with_growing_gaps_up_to_the_cap() {
        let h = Harness::start(Some("unknown method Sync")).await;
        h.run_until(secs(155.0)).await;
        let syncs = h.syncs();
        let gaps: Vec<Duration> = syncs.windows(2).map(|w| w[1] - w[0]).collect();
        let expected = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0].map(secs);
        assert_eq!(gaps.len(), expected.len(), "syncs at {syncs:?}");
        for (gap, want) in gaps.iter().zip(expected) {
            // Retries happen on a probe, so up to a probe interval late.
            assert!(
                *gap + MS >= want && *gap < want + PROBE_INTERVAL,
                "gaps {gaps:?}, want {expected:?}"
            );
        }
        let probes = h.service.probes.load(Ordering::SeqCst);
        assert!((300..=312).contains(&probes), "probed {probes} times in 155 s");
        let state = h.handle.state();
        assert!(!state.serving);
        assert_eq!(state.message, "sync failed: unknown method Sync");
        assert_eq!(state.last_sync, None);
        h.stop().await;
    }

    /// Desired state that changes while a failed sync waits for its retry is synced at once,
    /// as is a moved status epoch; a sync that succeeds ends the backoff, so the next failure
    /// is retried after 0.5 s again.
    #[tokio::test(start_paused = true)]
    async fn a_change_during_backoff_syncs_at_once_and_success_resets_the_backoff() {
        let h = Harness::start(Some("refused")).await;
        // Failed at 0, 0.5, 1.5, 3.5, 7.5 and 15.5 s; the next retry waits until 31.5 s. (The
        // test acts between probes, which come every 0.5 s from 0.)
        h.run_until(secs(20.25)).await;
        assert_eq!(h.syncs().len(), 6, "syncs at {:?}", h.syncs());

        // A moved status epoch syncs at the next probe, and the backoff goes on (60 s now).
        h.service.info.lock().unwrap().status_epoch = 1;
        h.run_until(secs(21.0)).await;
        let syncs = h.syncs();
        assert_eq!(syncs.len(), 7, "syncs at {syncs:?}");
        assert!(near(syncs[6], secs(20.5)), "syncs at {syncs:?}");

        // Desired state changes at 40.25 s: synced then, not at the retry.
        h.run_until(secs(40.25)).await;
        assert_eq!(h.syncs().len(), 7, "no retry yet: syncs at {:?}", h.syncs());
        h.fail(None);
        h.handle.request_sync();
        h.run_until(secs(40.4)).await;
        let syncs = h.syncs();
        assert_eq!(syncs.len(), 8, "syncs at {syncs:?}");
        assert!(near(syncs[7], secs(40.25)), "synced at once: syncs at {syncs:?}");
        let state = h.handle.state();
        assert!(state.serving, "{state:?}");
        assert_eq!(state.message, "");

        // A new failure starts the backoff from 0.5 s.
        h.fail(Some("refused"));
        h.handle.request_sync();
        h.run_until(secs(43.0)).await;
        let syncs = h.syncs();
        assert_eq!(syncs.len(), 11, "syncs at {syncs:?}");
        assert!(near(syncs[8], secs(40.4)), "synced at once: syncs at {syncs:?}");
        assert!(near(syncs[9] - syncs[8], secs(0.5)), "syncs at {syncs:?}");
        assert!(near(syncs[10] - syncs[9], secs(1.0)), "syncs at {syncs:?}");
        h.stop().await;
    }

    /// A new instance starts its retries afresh: a failure of its first sync is retried
    /// after 0.5 s, not after the 30 s its predecessor had reached.
    #[tokio::test(start_paused = true)]
    async fn a_new_instance_does_not_inherit_the_backoff() {
        let h = Harness::start(Some("refused")).await;
        // Failed at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s: the next retry waits 30 s.
        h.run_until(secs(40.25)).await;
        assert_eq!(h.syncs().len(), 7, "syncs at {:?}", h.syncs());
        h.service.info.lock().unwrap().instance_id = "second".into();
        h.run_until(secs(42.0)).await;
        let syncs = h.syncs();
        assert_eq!(syncs.len(), 9, "syncs at {syncs:?}");
        assert!(near(syncs[7], secs(40.5)), "the new instance at once: {syncs:?}");
        assert!(near(syncs[8] - syncs[7], secs(0.5)), "then after 0.5 s: {syncs:?}");
        h.stop().await;
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

    /// A sync that succeeds but leaves objects FAILED (a device node not there yet, a port
    /// another process holds: causes that go away without telling anyone) is followed by
    /// another after 0.5 s, 1 s, 2 s, ... up to 30 s, as a failed sync is; the service stays
    /// serving, its message naming them. A change starts the gaps afresh, and a sync that
    /// leaves none FAILED ends them.
    #[tokio::test(start_paused = true)]
    async fn failed_objects_are_synced_again_with_growing_gaps() {
        let h = Harness::start(None).await;
        *h.reconciler.failed_objects.lock().unwrap() = 1;
        h.run_until(secs(100.0)).await;
        let syncs = h.syncs();
        let gaps: Vec<Duration> = syncs.windows(2).map(|w| w[1] - w[0]).collect();
        let expected = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0].map(secs);
        assert_eq!(gaps.len(), expected.len(), "syncs at {syncs:?}");
        for (gap, want) in gaps.iter().zip(expected) {
            assert!(
                *gap + MS >= want && *gap < want + PROBE_INTERVAL,
                "gaps {gaps:?}, want {expected:?}"
            );
        }
        // Serving, and the message says which objects failed, between syncs too.
        let state = h.handle.state();
        assert!(state.serving, "{state:?}");
        assert_eq!(state.message, "1 object failed: fakes/one");

        // A change at 100.25 s syncs at once, and the next retry comes 0.5 s later.
        h.run_until(secs(100.25)).await;
        h.handle.request_sync();
        h.run_until(secs(100.5)).await;
        assert_eq!(h.syncs().len(), 10, "syncs at {:?}", h.syncs());
        *h.reconciler.failed_objects.lock().unwrap() = 0;
        h.run_until(secs(101.0)).await;
        let syncs = h.syncs();
        assert_eq!(syncs.len(), 11, "syncs at {syncs:?}");
        assert!(near(syncs[10] - syncs[9], secs(0.5)), "syncs at {syncs:?}");

        // None FAILED: no more syncs, and no message.
        h.run_until(secs(200.0)).await;
        assert_eq!(h.syncs().len(), 11, "syncs at {:?}", h.syncs());
        assert_eq!(h.handle.state().message, "");
        h.stop().await;
    }

    /// A restarted service's statuses were reported by a process that is gone: they are
    /// forgotten (its objects show PENDING) until a sync of the new instance reports, also
    /// while that sync fails.
    #[tokio::test(start_paused = true)]
    async fn a_new_instance_shows_pending_until_it_reports() {
        use dpu_proto::dpu::system::v1::ApplyState;

        use super::fake::FAKE_OBJECT;
        let h = Harness::start(None).await;
        let reported = || h.reconciler.statuses.get(FAKE_OBJECT, 0);
        h.run_until(secs(1.25)).await;
        assert_eq!(reported(), Some(ApplyState::Applied));

        // Restarted, and its first sync fails (retried at 2 s).
        h.fail(Some("refused"));
        h.service.info.lock().unwrap().instance_id = "second".into();
        h.run_until(secs(1.75)).await;
        assert_eq!(h.syncs().len(), 2, "syncs at {:?}", h.syncs());
        assert_eq!(reported(), None, "the previous instance's status is shown");

        h.fail(None);
        h.run_until(secs(2.25)).await;
        assert_eq!(h.syncs().len(), 3, "syncs at {:?}", h.syncs());
        assert_eq!(reported(), Some(ApplyState::Applied));
        h.stop().await;
    }

    /// A service that stops answering is shown not serving, with the error and how long ago
    /// it last answered, and with the last sync it had; when it answers again (the same
    /// instance, nothing to sync) it is serving again and the message goes.
    #[tokio::test(start_paused = true)]
    async fn a_service_that_stops_answering_is_down_until_it_answers() {
        let h = Harness::start(None).await;
        h.run_until(secs(5.25)).await;
        let synced = h.handle.state();
        assert!(synced.serving && synced.last_sync.is_some(), "{synced:?}");

        // Last answered at 5 s; the probe at 8.5 s is the last one before the look.
        *h.service.refuse.lock().unwrap() = Some("connection refused".into());
        h.run_until(secs(8.75)).await;
        let state = h.handle.state();
        assert!(!state.serving, "{state:?}");
        assert_eq!(state.message, "not answering: connection refused (last answered 3 s ago)");
        assert_eq!((state.last_sync, state.instance_id), (synced.last_sync, synced.instance_id));

        *h.service.refuse.lock().unwrap() = None;
        h.run_until(secs(9.25)).await;
        let state = h.handle.state();
        assert!(state.serving, "{state:?}");
        assert_eq!(state.message, "", "nothing wrong any more");
        assert_eq!(h.syncs().len(), 1, "the same instance is not synced again");
        h.stop().await;
    }

    /// The warning of a failing sync: at the first failure, at a new message, and otherwise at
    /// most once a minute with the number of attempts that failed since.
    #[test]
    fn failures_are_logged_first_on_change_and_once_a_minute() {
        let t0 = Instant::now();
        let mut failing = None;
        assert_eq!(Failing::record(&mut failing, "refused", t0), Some(1));
        let mut warned = vec![];
        let mut at = t0;
        for _ in 0..12 {
            at += failing.as_ref().unwrap().retry.backoff;
            if let Some(n) = Failing::record(&mut failing, "refused", at) {
                warned.push(((at - t0).as_secs_f64(), n));
            }
        }
        // Attempts at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 61.5, 91.5, 121.5, ... s.
        assert_eq!(warned, [(61.5, 7), (121.5, 2), (181.5, 2)]);
        let f = failing.as_ref().unwrap();
        assert_eq!((f.attempts, f.retry.backoff), (13, RETRY_MAX));
        at += secs(1.0);
        assert_eq!(Failing::record(&mut failing, "deadline exceeded", at), Some(2));
        assert_eq!(failing.as_ref().unwrap().error, "deadline exceeded");
        at += secs(1.0);
        assert_eq!(Failing::record(&mut failing, "deadline exceeded", at), None);
    }
}
