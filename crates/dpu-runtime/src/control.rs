//! `dpu.internal.v1.ServiceControl`, which every service process serves next to its own internal
//! API: the agent probes it to tell a restarted process (a new instance id, an empty applied
//! state) from the one it synced before, and to learn that statuses it synced changed since.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use dpu_proto::dpu::internal::v1::service_control_server::{ServiceControl, ServiceControlServer};
use dpu_proto::dpu::internal::v1::{GetServiceInfoRequest, ServiceInfo};
use tonic::{Request, Response, Status};

/// A random id fixed for the life of this process (32 hex digits).
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

static STATUS_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Records that this process changed an object's reported status without being asked to
/// (e.g. a block device volume followed its device's growth): the agent's next probe sees
/// a new `status_epoch` and syncs again to read the statuses.
pub fn status_changed() {
    STATUS_EPOCH.fetch_add(1, Ordering::SeqCst);
}

/// This process's identity, served over gRPC.
#[derive(Debug, Clone)]
pub struct Control {
    info: ServiceInfo,
}

impl Control {
    pub fn new(service: &str, version: &str) -> Self {
        Self {
            info: ServiceInfo {
                service: service.to_owned(),
                version: version.to_owned(),
                instance_id: instance_id().to_owned(),
                pid: std::process::id(),
                status_epoch: 0,
            },
        }
    }

    /// The identity with the current status epoch.
    pub fn info(&self) -> ServiceInfo {
        ServiceInfo { status_epoch: STATUS_EPOCH.load(Ordering::SeqCst), ..self.info.clone() }
    }

    pub fn into_server(self) -> ServiceControlServer<Self> {
        ServiceControlServer::new(self)
    }
}

#[tonic::async_trait]
impl ServiceControl for Control {
    async fn get_service_info(
        &self,
        _request: Request<GetServiceInfoRequest>,
    ) -> Result<Response<ServiceInfo>, Status> {
        Ok(Response::new(self.info()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn identity_is_stable_within_a_process() {
        let a = Control::new("x", "1.0");
        let b = Control::new("y", "2.0");
        assert_eq!(a.info().instance_id, b.info().instance_id);
        assert_eq!(a.info().instance_id.len(), 32);
        let info =
            a.get_service_info(Request::new(GetServiceInfoRequest {})).await.unwrap().into_inner();
        assert_eq!(
            (info.service.as_str(), info.version.as_str(), info.pid),
            ("x", "1.0", std::process::id())
        );
        status_changed();
        let later =
            a.get_service_info(Request::new(GetServiceInfoRequest {})).await.unwrap().into_inner();
        assert!(later.status_epoch > info.status_epoch, "{later:?} after {info:?}");
        assert_eq!(later.instance_id, info.instance_id);
    }
}
