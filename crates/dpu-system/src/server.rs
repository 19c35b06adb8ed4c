//! gRPC front of the service: `dpu.system.v1.SystemInternalService` and
//! `dpu.internal.v1.ServiceControl`. Every call that touches files runs on the blocking pool,
//! never on the reactor.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use dpu_proto::dpu::system::v1::system_internal_service_server::SystemInternalService;
use dpu_proto::dpu::system::v1::{
    ApplyState, GetInventoryRequest, Inventory, ListAppliedSysctlsRequest, SyncSysctlsRequest,
    SyncSysctlsResponse, Sysctl,
};
use dpu_runtime::newest::NewestWaits;
use tonic::{Request, Response, Status};
use tracing::{info, warn};

use crate::inventory::{self, Sources};
use crate::sysctl::{Applier, Kept};

pub use dpu_proto::dpu::system::v1::system_internal_service_server::SystemInternalServiceServer;
pub use dpu_runtime::control::{Control, instance_id};

/// Implements `SystemInternalService` over an [`Applier`] and the inventory sources.
#[derive(Debug, Clone)]
pub struct SystemInternal {
    applier: Arc<Mutex<Applier>>,
    sources: Arc<Sources>,
    /// One sync runs at a time ([`SystemInternal::queue_sync`]).
    sync_turn: Arc<tokio::sync::Mutex<()>>,
    /// The sync waiting for the running one: only the newest.
    waiting_sync: Arc<NewestWaits>,
}

/// Largest internal message either side accepts.
pub const INTERNAL_MESSAGE_LIMIT: usize = 256 * 1024 * 1024;

/// How often the applied sysctls are checked between syncs ([`SystemInternal::keep_applied`]).
pub const KEEP_EVERY: Duration = Duration::from_secs(5);

/// Passes are spaced by at least this many times the last one's length, so that checking a
/// large set (100,000 objects read in about a second) costs at most 5% of a core.
const KEEP_SPACING: u32 = 20;

impl SystemInternal {
    pub fn new(applier: Applier, sources: Sources) -> Self {
        Self {
            applier: Arc::new(Mutex::new(applier)),
            sources: Arc::new(sources),
            sync_turn: Arc::default(),
            waiting_sync: Arc::default(),
        }
    }

    /// Applies `desired` on a task of its own once the running sync (if any) ended, so a
    /// caller that gives up does not leave it half done. At most one sync waits, the newest
    /// (each carries the whole desired set), and without a thread: the one it replaces ends
    /// at once with ABORTED, its set dropped. So the agent's timed-out and retried syncs
    /// behind a stuck one (a sysctl write that blocks) neither park a blocking thread each
    /// nor apply stale sets one after another when it clears.
    fn queue_sync(
        &self,
        desired: Vec<Sysctl>,
    ) -> tokio::task::JoinHandle<Result<Vec<Sysctl>, Status>> {
        let (turn, waiting, applier) =
            (self.sync_turn.clone(), self.waiting_sync.clone(), self.applier.clone());
        tokio::spawn(async move {
            let _turn = waiting.wait(turn.lock_owned()).await.map_err(|_| {
                Status::aborted("a newer sync replaced this one before it ran; that one applies")
            })?;
            blocking("sysctl sync", move || lock(&applier).sync(desired)).await
        })
    }

    /// The server for the agent's socket. A full sync carries every desired object in one
    /// message (100,000 sysctls are ~6 MiB), so the limits are those of the agent's store, not
    /// gRPC's 4 MiB default; only the agent can reach this 0600 socket.
    pub fn into_server(self) -> SystemInternalServiceServer<Self> {
        SystemInternalServiceServer::new(self)
            .max_decoding_message_size(INTERNAL_MESSAGE_LIMIT)
            .max_encoding_message_size(INTERNAL_MESSAGE_LIMIT)
    }

    /// Keeps the applied sysctls in force until the task is dropped: every `every` (or
    /// [`KEEP_SPACING`] times the last pass's length, if longer) one pass of
    /// [`Applier::keep`] on the blocking pool. A status that changed is announced through the
    /// status epoch, so the agent syncs and records it.
    pub async fn keep_applied(&self, every: Duration) {
        let mut wait = every;
        loop {
            tokio::time::sleep(wait).await;
            let applier = Arc::clone(&self.applier);
            let Ok((kept, took)) = blocking("sysctl keep", move || keep_pass(&applier)).await
            else {
                continue;
            };
            if kept.status_changed > 0 {
                info!(changed = kept.status_changed, "sysctl statuses changed between syncs");
            }
            wait = every.max(took * KEEP_SPACING);
        }
    }
}

/// One keep pass, and how long it took once it held the applier: time spent waiting for a
/// sync to let go of the lock is the sync's, and must not space the next pass out.
fn keep_pass(applier: &Mutex<Applier>) -> (Kept, Duration) {
    let mut applier = lock(applier);
    let started = std::time::Instant::now();
    let kept = applier.keep();
    // Announced before the lock goes: whoever sees a new status (a list or a sync takes
    // the lock) sees the new epoch too.
    if kept.status_changed > 0 {
        dpu_runtime::control::status_changed();
    }
    (kept, started.elapsed())
}

/// A panic inside `Applier::sync` cannot leave the applier half-updated (it swaps the applied
/// set at the end), so a poisoned lock is safe to keep using.
fn lock(applier: &Mutex<Applier>) -> MutexGuard<'_, Applier> {
    applier.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(work).await.map_err(|err| {
        warn!(%err, what, "blocking task failed");
        Status::internal(format!("{what} failed inside the system service: {err}"))
    })
}

#[tonic::async_trait]
impl SystemInternalService for SystemInternal {
    async fn get_inventory(
        &self,
        _request: Request<GetInventoryRequest>,
    ) -> Result<Response<Inventory>, Status> {
        let sources = Arc::clone(&self.sources);
        let inventory = blocking("inventory", move || inventory::collect(&sources)).await?;
        Ok(Response::new(inventory))
    }

    async fn sync_sysctls(
        &self,
        request: Request<SyncSysctlsRequest>,
    ) -> Result<Response<SyncSysctlsResponse>, Status> {
        let synced = self.queue_sync(request.into_inner().sysctls).await;
        let sysctls =
            synced.map_err(|e| Status::internal(format!("sysctl sync failed: {e}")))??;
        let failed = sysctls
            .iter()
            .filter(|s| s.status.as_ref().is_some_and(|st| st.state == ApplyState::Failed as i32))
            .inspect(|s| {
                let message = s.status.as_ref().map_or("", |st| st.message.as_str());
                warn!(name = %s.name, %message, "sysctl not applied");
            })
            .count();
        info!(total = sysctls.len(), failed, "synced sysctls");
        Ok(Response::new(SyncSysctlsResponse { sysctls }))
    }

    async fn list_applied_sysctls(
        &self,
        _request: Request<ListAppliedSysctlsRequest>,
    ) -> Result<Response<SyncSysctlsResponse>, Status> {
        // The lock may be held by a running sync: wait for it off the reactor.
        let applier = Arc::clone(&self.applier);
        let sysctls = blocking("sysctl list", move || lock(&applier).list_applied()).await?;
        Ok(Response::new(SyncSysctlsResponse { sysctls }))
    }
}

/// The `ServiceControl` identity of this process.
pub fn control() -> Control {
    Control::new(crate::SERVICE_NAME, crate::VERSION)
}

#[cfg(test)]
mod tests {
    use dpu_proto::dpu::system::v1::SysctlSpec;

    use super::*;

    #[test]
    fn service_info_is_stable_within_a_process() {
        let a = control();
        let b = control();
        assert_eq!(a.info().instance_id, b.info().instance_id);
        assert_eq!(a.info().service, "system");
        assert_eq!(a.info().pid, std::process::id());
        assert!(uuid::Uuid::parse_str(&a.info().instance_id).is_ok());
    }

    #[tokio::test]
    async fn sync_with_bad_key_reports_failed_not_error() {
        let root = tempfile::tempdir().unwrap();
        let service = SystemInternal::new(Applier::new(root.path()), Sources::default());
        let request = SyncSysctlsRequest {
            sysctls: vec![Sysctl {
                name: "sysctls/../../etc/passwd".into(),
                spec: Some(SysctlSpec { value: "x".into() }),
                ..Default::default()
            }],
        };
        let response = service.sync_sysctls(Request::new(request)).await.unwrap().into_inner();
        let status = response.sysctls[0].status.as_ref().unwrap();
        assert_eq!(status.state, ApplyState::Failed as i32);
        assert!(status.message.contains("invalid sysctl key"), "{}", status.message);
        let listed = service
            .list_applied_sysctls(Request::new(ListAppliedSysctlsRequest {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.sysctls, response.sysctls);
    }

    /// A pass that waited for a long sync to release the applier counts only its own work,
    /// so the next pass is not put off by 20 times the sync's length.
    #[test]
    fn a_keep_pass_does_not_count_its_wait_for_the_lock() {
        let root = tempfile::tempdir().unwrap();
        let applier = Arc::new(Mutex::new(Applier::new(root.path())));
        let held = Duration::from_millis(500);
        // The "sync" holds the lock until the test lets it go.
        let sync = lock(&applier);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let pass = {
            let applier = Arc::clone(&applier);
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                started_tx.send(()).unwrap();
                let (_, took) = keep_pass(&applier);
                (took, started.elapsed())
            })
        };
        started_rx.recv().unwrap();
        std::thread::sleep(held);
        drop(sync);
        let (took, total) = pass.join().unwrap();
        // The lock came free at least `held` after the pass began to wait for it, so the
        // pass's own time is at most its whole time less that wait; counted from before
        // the lock, it would be the whole.
        assert!(took + held <= total, "took {took:?} of {total:?}");
    }

    /// Syncs that come while one is stuck (a sysctl write that blocks) neither park a
    /// blocking thread each nor apply stale sets one after another when it clears: one waits,
    /// the newest, and each it replaces ends at once with ABORTED, whether its caller still
    /// waits or gave up (the agent's timeout). Each sync here sets its own swappiness, so the
    /// applier's write count tells how many ran.
    #[tokio::test]
    async fn of_the_syncs_waiting_for_a_stuck_one_only_the_newest_runs() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("vm")).unwrap();
        let swappiness = root.path().join("vm/swappiness");
        std::fs::write(&swappiness, "60\n").unwrap();
        let service = SystemInternal::new(Applier::new(root.path()), Sources::default());
        let request = |value: &str| {
            Request::new(SyncSysctlsRequest {
                sysctls: vec![Sysctl {
                    name: "sysctls/vm.swappiness".into(),
                    spec: Some(SysctlSpec { value: value.into() }),
                    ..Default::default()
                }],
            })
        };
        // The applier is held (a stuck write) until the test lets it go.
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let holder = {
            let applier = Arc::clone(&service.applier);
            std::thread::spawn(move || {
                let _stuck = lock(&applier);
                held_tx.send(()).unwrap();
                hold_rx.recv().ok();
            })
        };
        held_rx.recv().unwrap();
        let spawn_sync = |value: &str| {
            let (service, req) = (service.clone(), request(value));
            tokio::spawn(async move { service.sync_sysctls(req).await })
        };
        let step = Duration::from_millis(50);
        let running = spawn_sync("10");
        tokio::time::sleep(step).await;
        let waiting = spawn_sync("11");
        tokio::time::sleep(step).await;
        let give_up = Duration::from_millis(200);
        for value in ["12", "13", "14"] {
            let gave_up = tokio::time::timeout(give_up, service.sync_sysctls(request(value))).await;
            assert!(gave_up.is_err(), "{value}: answered while a sync is stuck");
        }
        let replaced = tokio::time::timeout(give_up, waiting).await.expect("answered at once");
        let status = replaced.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Aborted, "{status}");
        assert!(status.message().contains("newer sync"), "{status}");
        hold_tx.send(()).unwrap();
        holder.join().unwrap();
        running.await.unwrap().unwrap();
        // The newest (14), which its caller gave up on, runs next; nothing after it.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&swappiness).unwrap() != "14" {
            assert!(std::time::Instant::now() < deadline, "the newest sync never ran");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(step).await;
        assert_eq!(lock(&service.applier).writes(), 2, "syncs that ran: the stuck one and 14");
        assert_eq!(std::fs::read_to_string(&swappiness).unwrap(), "14");
    }

    #[tokio::test]
    async fn inventory_over_the_trait() {
        let root = tempfile::tempdir().unwrap();
        let service = SystemInternal::new(Applier::new(root.path()), Sources::default());
        let inventory =
            service.get_inventory(Request::new(GetInventoryRequest {})).await.unwrap().into_inner();
        assert!(inventory.interfaces.iter().any(|i| i.name == "lo"));
    }
}
