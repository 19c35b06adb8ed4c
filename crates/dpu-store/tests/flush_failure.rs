//! A flush that fails after a write reached sled's tree, injected with sled's own failpoint
//! (global to the process, hence this test binary of its own).

use dpu_store::{Result, Store, StoreError};

#[path = "support/reopen.rs"]
mod reopen;

#[path = "support/spec.rs"]
mod fixture;
use fixture::{Spec, spec};

/// The writer whose flush failed learns that its outcome is unknown, not that it failed;
/// nothing reads the write from the tree afterwards (a Get, a List, the reconcilers'
/// `all`), no other write is taken, and `failed` tells the owner to restart. After the
/// restart the store holds what reached the disk: here the old spec, the write having never
/// left its buffer, which any read of the tree before the restart would have contradicted.
#[tokio::test]
async fn a_failed_flush_stops_the_store_and_leaves_the_outcome_to_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let sysctls = store.collection::<Spec>("sysctls");
    let stored = sysctls.create("sysctls/a", &spec("1")).await.unwrap();

    // The next write of a log buffer to the file fails, as an EIO would.
    sled::fail::set("buffer write", 1);
    let e = sysctls.update("sysctls/a", None, false, |_| spec("2")).await.unwrap_err();
    sled::fail::reset();
    assert!(matches!(e, StoreError::Unflushed(_)), "{e:?}");
    assert!(e.to_string().contains("may or may not be stored"), "{e}");

    // The tree holds spec 2; no one may read it as stored.
    let failed = |r: Result<_>| matches!(r, Err(StoreError::Failed(_)));
    assert!(failed(sysctls.get("sysctls/a").map(|_| ())));
    assert!(failed(sysctls.list(10, "").map(|_| ())));
    assert!(failed(sysctls.all().map(|_| ())));
    assert!(failed(sysctls.create("sysctls/b", &spec("1")).await.map(|_| ())));
    assert!(failed(sysctls.update("sysctls/a", None, false, |_| spec("3")).await.map(|_| ())));
    assert!(failed(sysctls.delete("sysctls/a", None).await.map(|_| ())));
    let why = store.failed().await;
    assert!(!why.is_empty());

    drop((sysctls, store));
    let store = reopen::reopen(dir.path()).unwrap();
    let sysctls = store.collection::<Spec>("sysctls");
    assert_eq!(sysctls.get("sysctls/a").unwrap(), Some(stored));
    assert_eq!(store.len(), 1);
}
