//! The API's answers once a flush of the state store failed after the write reached sled's
//! tree, injected with sled's own failpoint (global to the process: a test binary of its
//! own).

use dpu_proto::dpu::system::v1::SysctlSpec;
use dpud::api::resource::Resources;
use dpud::api::system::SysctlKind;
use dpud::services::{ServiceHandle, Services};
use tonic::Code;

/// The writer is told the outcome is unknown (UNKNOWN), not that the write failed; a read
/// that follows does not show the write it was not told succeeded, it is UNAVAILABLE until
/// the agent restarts (which `Agent::store_failed` asks for).
#[tokio::test]
async fn a_failed_flush_is_an_unknown_outcome_and_then_the_store_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = dpu_store::Store::open(dir.path()).unwrap();
    // A system service configured (writes need one), never reached.
    let channel = tonic::transport::Endpoint::from_static("http://[::1]:1").connect_lazy();
    let system = ServiceHandle::new("system", channel);
    let services =
        Services { handles: [("system".to_owned(), system)].into(), ..Default::default() };
    let sysctls: Resources<SysctlKind> = Resources::open(&store, &services, "system");
    let name = "sysctls/vm.swappiness";
    let one = SysctlSpec { value: "1".into() };
    let created = sysctls.create(name, "", Some(&one), async |_| Ok(())).await.unwrap();

    sled::fail::set("buffer write", 1);
    let two = SysctlSpec { value: "2".into() };
    let e = sysctls
        .update(name, &created.etag, Some(&two), None, false, |_| async { Ok(()) })
        .await
        .unwrap_err();
    sled::fail::reset();
    assert_eq!(e.code(), Code::Unknown, "{e:?}");
    assert!(e.message().contains("may or may not be stored"), "{e:?}");

    let e = sysctls.get(name).await.unwrap_err();
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    let e = sysctls.all().await.unwrap_err();
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    let e = sysctls.delete(name, "", false, async || Ok(())).await.unwrap_err();
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    assert!(!store.failed().await.is_empty());
}
