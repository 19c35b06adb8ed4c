//! The nvmf service's internal Sync (`internal::NvmfInternal::sync_state`: the whole desired
//! state the agent sends, applied to the target): arbitrary bytes decoded (prost) as two
//! Sync requests, applied one after the other to a fresh target, since changes between
//! states are where bugs live. Volumes are RAM only (sparse: nothing is allocated until
//! written); file and block device volumes are left out, as are listeners, which would bind
//! sockets.
//!
//! Input: a little-endian u16 length, that many bytes of the first request, the rest the
//! second. The seeds (`seeds/nvmf_sync`) are pairs of states that apply whole (a volume
//! grown, namespaces changed in place and moved with their NQN, two subsystems swapping
//! NQNs, one state twice, objects named twice); dpu-nvmf's `the_fuzz_seeds_apply_whole` keeps them so.
//!
//! Properties: no panic; a state applied whole (every object APPLIED) and applied again
//! changes nothing: the same reply, the same subsystems and namespace objects, and neither
//! the discovery log's generation counter nor the namespace epoch moves (hosts would be
//! told of a change, connections would look their namespaces up again).
#![no_main]

use std::sync::{Arc, OnceLock};

use dpu_nvmf::internal::NvmfInternal;
use dpu_nvmf::server::Server;
use dpu_proto::dpu::nvmf::v1 as pb;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
    })
}

/// The request with RAM volumes only and no listeners, or None if it does not decode.
fn request(bytes: &[u8]) -> Option<pb::SyncRequest> {
    let mut req = pb::SyncRequest::decode(bytes).ok()?;
    req.volumes.retain(|v| {
        let backend = v.spec.as_ref().and_then(|s| s.backend.as_ref());
        matches!(backend, None | Some(pb::volume_spec::Backend::Ram(_)))
    });
    req.listeners.clear();
    Some(req)
}

fn applied_whole(r: &pb::SyncResponse) -> bool {
    let applied =
        |s: Option<&pb::ObjectStatus>| s.is_some_and(|s| s.state == pb::ApplyState::Applied as i32);
    r.volumes.iter().all(|v| applied(v.status.as_ref().and_then(|s| s.apply.as_ref())))
        && r.subsystems.iter().all(|v| applied(v.status.as_ref().and_then(|s| s.apply.as_ref())))
        && r.namespaces.iter().all(|v| applied(v.status.as_ref().and_then(|s| s.apply.as_ref())))
}

fuzz_target!(|data: &[u8]| {
    let [lo, hi, rest @ ..] = data else { return };
    let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(rest.len());
    let (first, second) = rest.split_at(len);
    let (Some(first), Some(second)) = (request(first), request(second)) else { return };
    runtime().block_on(async {
        let target = dpu_nvmf::Target::new();
        let server = Server::new(target.clone(), 1);
        let internal = NvmfInternal::new(server.clone());
        internal.sync_state(first).await;
        let once = internal.sync_state(second.clone()).await;
        if applied_whole(&once) {
            let before = (
                target.subsystems(),
                target.all_namespaces(),
                target.discovery_generation(),
                target.namespace_epoch(),
            );
            let twice = internal.sync_state(second).await;
            assert_eq!(once, twice, "the same state applied again answers otherwise");
            assert_eq!(target.subsystems(), before.0, "applied again, the subsystems changed");
            let namespaces = target.all_namespaces();
            assert!(
                namespaces.len() == before.1.len()
                    && namespaces.iter().zip(&before.1).all(|(a, b)| Arc::ptr_eq(a, b)),
                "applied again, namespaces were replaced"
            );
            assert_eq!(
                target.discovery_generation(),
                before.2,
                "applied again, the discovery log changed"
            );
            assert_eq!(
                target.namespace_epoch(),
                before.3,
                "applied again, the namespace epoch moved"
            );
        }
        server.stop();
    });
});
