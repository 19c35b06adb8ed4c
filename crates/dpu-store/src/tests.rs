use super::*;

// Shared with the integration tests.
#[path = "../tests/support/reopen.rs"]
mod reopen;
use reopen::{reopen, reopen_with};

#[path = "../tests/support/spec.rs"]
mod fixture;
use fixture::{Spec, spec};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

#[tokio::test]
async fn create_get_update_delete() {
    let (_dir, store) = open();
    let c = store.collection::<Spec>("things");
    let a = c.create("things/a", &spec("1")).await.unwrap();
    assert_eq!(a.generation, 1);
    assert!(matches!(c.create("things/a", &spec("2")).await, Err(StoreError::AlreadyExists(_))));
    assert_eq!(c.get("things/a").unwrap().unwrap().spec, spec("1"));

    // Same spec: nothing changes.
    let same = c.update("things/a", Some(&a.etag), false, |_| spec("1")).await.unwrap();
    assert_eq!((same.generation, same.etag.as_str()), (1, a.etag.as_str()));

    let b = c.update("things/a", Some(&a.etag), false, |_| spec("2")).await.unwrap();
    assert_eq!(b.generation, 2);
    assert_ne!(b.etag, a.etag);
    // The old etag is now stale.
    let stale = c.update("things/a", Some(&a.etag), false, |_| spec("3")).await;
    assert!(matches!(stale, Err(StoreError::EtagMismatch { .. })));
    assert_eq!(c.get("things/a").unwrap().unwrap().spec, spec("2"));

    assert!(matches!(
        c.update("things/zz", None, false, |_| spec("x")).await,
        Err(StoreError::NotFound(_))
    ));
    let created = c.update("things/zz", None, true, |_| spec("x")).await.unwrap();
    assert_eq!(created.generation, 1);

    assert!(matches!(
        c.delete("things/a", Some(&a.etag)).await,
        Err(StoreError::EtagMismatch { .. })
    ));
    assert!(c.delete("things/a", Some(&b.etag)).await.unwrap());
    assert!(!c.delete("things/a", None).await.unwrap());
    assert!(c.get("things/a").unwrap().is_none());
}

#[tokio::test]
async fn recreated_object_gets_a_new_etag() {
    let (_dir, store) = open();
    let c = store.collection::<Spec>("things");
    let first = c.create("things/a", &spec("1")).await.unwrap();
    c.delete("things/a", None).await.unwrap();
    let second = c.create("things/a", &spec("1")).await.unwrap();
    assert_ne!(first.etag, second.etag);
}

#[tokio::test]
async fn list_pages_through_one_collection_only() {
    let (_dir, store) = open();
    let c = store.collection::<Spec>("things");
    let other = store.collection::<Spec>("thingsx");
    other.create("thingsx/a", &spec("no")).await.unwrap();
    for i in 0..25 {
        c.create(&format!("things/{i:03}"), &spec(&i.to_string())).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = c.list(10, &token).unwrap();
        seen.extend(page.objects.into_iter().map(|o| o.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let expected: Vec<_> = (0..25).map(|i| format!("things/{i:03}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(c.all().unwrap().len(), 25);
    assert!(matches!(c.list(10, "zz"), Err(StoreError::InvalidPageToken)));
    assert!(matches!(c.list(10, &hex::encode("thingsx/a")), Err(StoreError::InvalidPageToken)));
}

#[tokio::test]
async fn list_under_pages_through_one_parent_only() {
    let (_dir, store) = open();
    let c = store.collection::<Spec>("children");
    for parent in ["p1", "p10", "p2"] {
        for i in 0..3 {
            c.create(&format!("children/{parent}/{i}"), &spec("x")).await.unwrap();
        }
    }
    let first = c.list_under("p1/", 2, "").unwrap();
    assert_eq!(first.objects.len(), 2);
    let rest = c.list_under("p1/", 2, &first.next_page_token).unwrap();
    let names: Vec<_> =
        first.objects.iter().chain(&rest.objects).map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["children/p1/0", "children/p1/1", "children/p1/2"]);
    assert!(rest.next_page_token.is_empty());
    // A token of one parent is not valid for another, nor for every parent's listing,
    // nor a token of that listing for one parent.
    assert!(matches!(
        c.list_under("p2/", 2, &first.next_page_token),
        Err(StoreError::InvalidPageToken)
    ));
    assert!(matches!(c.list(2, &first.next_page_token), Err(StoreError::InvalidPageToken)));
    let everything = c.list(2, "").unwrap();
    assert_eq!(everything.objects[1].name, "children/p1/1");
    assert!(matches!(
        c.list_under("p1/", 2, &everything.next_page_token),
        Err(StoreError::InvalidPageToken)
    ));
    assert_eq!(c.list(100, "").unwrap().objects.len(), 9);
}

#[tokio::test]
async fn survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.collection::<Spec>("things").create("things/a", &spec("kept")).await.unwrap();
    }
    // sled releases its file lock when its background flusher, which outlives the last
    // handle briefly, has stopped: retry a lock refusal for a bounded time (CI saw one).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let store = loop {
        match Store::open(dir.path()) {
            Ok(store) => break store,
            Err(e)
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("reopening: {e}"),
        }
    };
    let got = store.collection::<Spec>("things").get("things/a").unwrap().unwrap();
    assert_eq!(got.spec, spec("kept"));
}

/// The store's directory is 0700 and its files 0600, whether the directory is new or was
/// left more open by an older version.
#[tokio::test]
async fn directory_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let check = |dir: &Path| {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
        let mut files = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files += 1;
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            } else if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
            }
        }
        assert!(files > 0, "sled wrote no files in {}", dir.display());
    };
    let root = tempfile::tempdir().unwrap();
    let fresh = root.path().join("a/state");
    {
        let store = Store::open(&fresh).unwrap();
        store.collection::<Spec>("things").create("things/a", &spec("x")).await.unwrap();
    }
    check(&fresh);
    let old = root.path().join("old");
    std::fs::create_dir(&old).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(old.join("conf"), "").unwrap();
    std::fs::set_permissions(old.join("conf"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = Store::open(&old).unwrap();
    check(&old);
}

/// Many concurrent writers share flushes and never deadlock (sled's own flush_async did).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_group_commit() {
    let (_dir, store) = open();
    let c = store.collection::<Spec>("things");
    let mut tasks = Vec::new();
    for w in 0..64 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                c.create(&format!("things/{w}-{i}"), &spec("v")).await.unwrap();
                c.update(&format!("things/{w}-{i}"), None, false, |_| spec("w")).await.unwrap();
            }
        }));
    }
    let all = async {
        for t in tasks {
            t.await.unwrap();
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), all)
        .await
        .expect("writers deadlocked");
    assert_eq!(c.all().unwrap().len(), 64 * 20);
    assert!(c.all().unwrap().iter().all(|o| o.generation == 2));
}

/// A page ends once its records reach the byte budget, whatever page_size asks for, and
/// paging still visits every object once (an object above the budget makes a page alone).
#[tokio::test]
async fn pages_are_bounded_in_bytes_too() {
    let (_dir, store) = open();
    let c = store.collection::<Spec>("things");
    let big = "x".repeat(64 * 1024);
    let mut last = None;
    for i in 0..40 {
        last = Some(c.create_applied(&format!("things/{i:03}"), &spec(&big)).await.unwrap());
    }
    last.unwrap().durable().await.unwrap();
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    const PAGE_BYTES: usize = 1 << 20;
    loop {
        let page = c.list_within("", 1000, PAGE_BYTES, &token).unwrap();
        let bytes: usize = page.objects.iter().map(|o| o.spec.value.len()).sum();
        assert!(bytes <= PAGE_BYTES + big.len(), "a page of {bytes} bytes");
        assert!(!page.objects.is_empty());
        seen.extend(page.objects.into_iter().map(|o| o.name));
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert!(pages > 1, "40 objects of 64 KiB in one page");
    let expected: Vec<_> = (0..40).map(|i| format!("things/{i:03}")).collect();
    assert_eq!(seen, expected);
    // One object above the budget is a page of its own: paging never stalls.
    let page = c.list_within("", 1000, 10, "").unwrap();
    assert_eq!(page.objects.len(), 1);
    assert_eq!(
        c.list_within("", 1000, 10, &page.next_page_token).unwrap().objects[0].name,
        "things/001"
    );
}

/// A store the disk damaged does not open as a fragment of itself: sled recovers what it
/// reads up to a damaged spot and drops the rest, so the agent would start with part of
/// its desired state and make every service converge on that. Whatever the damage, the
/// store opens with every acknowledged object or fails with an error.
#[test]
fn a_damaged_store_does_not_open_with_objects_missing() {
    let dir = tempfile::tempdir().unwrap();
    let count = 300;
    {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = Store::open(dir.path()).unwrap();
            let c = store.collection::<Spec>("things");
            for i in 0..count {
                c.create(&format!("things/{i:03}"), &spec(&"v".repeat(i * 10))).await.unwrap();
            }
        });
    }
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    let db = &files.iter().find(|(p, _)| p.ends_with("db")).unwrap().1;
    // Cut short at a third and at two thirds; 16 bytes flipped at a half and at 4/5.
    let damage = |b: &mut Vec<u8>, i: usize| match i {
        0 => b.truncate(b.len() / 3),
        1 => b.truncate(b.len() * 2 / 3),
        _ => {
            let at = if i == 2 { b.len() / 2 } else { b.len() * 4 / 5 };
            b[at..at + 16].iter_mut().for_each(|x| *x ^= 0xa5);
        }
    };
    for i in 0..4 {
        for (path, bytes) in &files {
            std::fs::write(path, bytes).unwrap();
        }
        let mut damaged = db.clone();
        damage(&mut damaged, i);
        std::fs::write(dir.path().join("db"), damaged).unwrap();
        match reopen(dir.path()) {
            Ok(store) => {
                let all = store.collection::<Spec>("things").all().unwrap();
                assert_eq!(all.len(), count, "damage {i}: opened with objects missing");
            }
            // Sled's own corruption error, or the store's count says what is missing.
            Err(e) => assert!(
                matches!(
                    e,
                    StoreError::Lost { .. } | StoreError::Sled(sled::Error::Corruption { .. })
                ),
                "damage {i}: {e}"
            ),
        }
    }
    // The untouched files open whole.
    for (path, bytes) in &files {
        std::fs::write(path, bytes).unwrap();
    }
    let store = reopen(dir.path()).unwrap();
    assert_eq!(store.collection::<Spec>("things").all().unwrap().len(), count);
    assert_eq!(store.len(), count);
}

/// A store an older version wrote (no count, no marker) opens and is counted; one whose
/// count is gone while the marker says writes were flushed (sled dropped all of it) does not.
#[tokio::test]
async fn a_store_without_its_count_is_counted_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let c = store.collection::<Spec>("things");
        for i in 0..5 {
            c.create(&format!("things/{i}"), &spec("x")).await.unwrap();
        }
        store.objects.remove(META).unwrap();
        store.db.flush().unwrap();
    }
    let e = reopen(dir.path()).err().unwrap();
    assert!(e.to_string().contains("none of the 5 writes on disk"), "{e}");
    std::fs::remove_file(dir.path().join(MARKER)).unwrap();
    let store = reopen(dir.path()).unwrap();
    assert_eq!(store.len(), 5);
    let c = store.collection::<Spec>("things");
    c.delete("things/0", None).await.unwrap();
    assert_eq!((store.len(), c.all().unwrap().len()), (4, 4));
}

/// A crash between a mutation and its count leaves one object more or fewer than the count:
/// the store opens and counts again. Two off is damage.
#[tokio::test]
async fn a_mutation_without_its_count_opens_and_two_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let bytes;
    {
        let store = Store::open(dir.path()).unwrap();
        let c = store.collection::<Spec>("things");
        for i in 0..3 {
            c.create(&format!("things/{i}"), &spec("x")).await.unwrap();
        }
        // A record as stored; the last create's object landed, its count did not.
        bytes = store.objects.get("things/0").unwrap().unwrap();
        store.objects.insert("things/3", bytes.clone()).unwrap();
        store.db.flush().unwrap();
    }
    let store = reopen(dir.path()).unwrap();
    assert_eq!(store.len(), 4);
    let c = store.collection::<Spec>("things");
    c.create("things/4", &spec("x")).await.unwrap();
    assert_eq!((store.len(), c.all().unwrap().len()), (5, 5));
    store.objects.insert("things/5", bytes.clone()).unwrap();
    store.objects.insert("things/6", bytes).unwrap();
    store.db.flush().unwrap();
    drop((c, store));
    let e = reopen(dir.path()).err().unwrap();
    assert!(e.to_string().contains("it holds 7 objects of 5"), "{e}");
}

/// The count is checked without the marker too (it is not synced, and a power loss may
/// take it), and a store an older agent wrote to (objects added and removed without the
/// count) opens only recounted, on purpose.
#[tokio::test]
async fn the_count_is_checked_without_the_marker_and_recounted_on_request() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let c = store.collection::<Spec>("things");
        for i in 0..5 {
            c.create(&format!("things/{i}"), &spec("x")).await.unwrap();
        }
        // As an older agent deletes: the objects go, the count stays.
        store.objects.remove("things/0").unwrap();
        store.objects.remove("things/1").unwrap();
        store.db.flush().unwrap();
    }
    std::fs::remove_file(dir.path().join(MARKER)).unwrap();
    let e = reopen(dir.path()).err().unwrap();
    assert!(e.to_string().contains("it holds 3 objects of 5"), "{e}");
    let store = reopen_with(dir.path(), Store::open_recounted).unwrap();
    assert_eq!(store.len(), 3);
    let c = store.collection::<Spec>("things");
    c.create("things/9", &spec("x")).await.unwrap();
    drop((c, store));
    assert_eq!(reopen(dir.path()).unwrap().len(), 4);
}

/// How long a test lets a call run to see that it waits (it would finish in well under this).
const WAITS: std::time::Duration = std::time::Duration::from_millis(300);

/// The test hook: a write is in the tree but its caller waits while flushes are held; it
/// returns once they run, and is Unflushed (the store failed) when they fail.
#[tokio::test]
async fn held_flushes_hold_writers_until_released_or_failed() {
    let (_dir, store) = open();
    let c = store.collection::<Spec>("things");
    let hold = store.hold_flushes();
    let writer = tokio::spawn({
        let c = c.clone();
        async move { c.create("things/a", &spec("1")).await }
    });
    hold.flush_waiting().await;
    tokio::time::sleep(WAITS).await;
    assert!(!writer.is_finished(), "a write returned while its flush was held");
    assert!(c.get("things/a").unwrap().is_some(), "the write is in the tree");
    hold.release();
    assert_eq!(writer.await.unwrap().unwrap().spec, spec("1"));

    let hold = store.hold_flushes();
    let writer = tokio::spawn({
        let c = c.clone();
        async move { c.create("things/b", &spec("1")).await }
    });
    hold.flush_waiting().await;
    hold.fail("injected EIO");
    let e = writer.await.unwrap().unwrap_err();
    assert!(matches!(&e, StoreError::Unflushed(why) if why == "injected EIO"), "{e:?}");
    assert!(matches!(c.get("things/a"), Err(StoreError::Failed(_))));
}

/// A read of a change that is in the tree but not on disk yet is answered only once it is:
/// `durable_barrier` after the read waits for the writer's flush (held here) and fails
/// (`Failed`) with it, as do calls that write nothing (an update to the same spec, a delete
/// of a missing object), whose answers are reads too. With nothing unflushed it is at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_waits_for_the_flush_of_what_it_saw_and_fails_with_it() {
    let (_dir, store) = open();
    let c = store.collection::<Spec>("things");
    c.create("things/a", &spec("1")).await.unwrap();
    let idle = tokio::time::timeout(WAITS, store.durable_barrier()).await;
    idle.expect("a barrier waited with nothing unflushed").unwrap();

    let hold = store.hold_flushes();
    let writer = tokio::spawn({
        let c = c.clone();
        async move { c.update("things/a", None, false, |_| spec("2")).await }
    });
    hold.flush_waiting().await;
    assert_eq!(c.get("things/a").unwrap().unwrap().spec, spec("2"), "in the tree");
    let barrier = tokio::spawn({
        let store = store.clone();
        async move { store.durable_barrier().await }
    });
    let unchanged = tokio::spawn({
        let c = c.clone();
        async move { c.update("things/a", None, false, |_| spec("2")).await }
    });
    tokio::time::sleep(WAITS).await;
    assert!(!barrier.is_finished(), "a read's barrier passed before what it saw was on disk");
    assert!(!unchanged.is_finished(), "an unchanged update answered before the disk had it");
    hold.release();
    let written = writer.await.unwrap().unwrap();
    barrier.await.unwrap().unwrap();
    assert_eq!(unchanged.await.unwrap().unwrap().etag, written.etag);

    let hold = store.hold_flushes();
    let writer = tokio::spawn({
        let c = c.clone();
        async move { c.update("things/a", None, false, |_| spec("3")).await }
    });
    hold.flush_waiting().await;
    let barrier = tokio::spawn({
        let store = store.clone();
        async move { store.durable_barrier().await }
    });
    let missing = tokio::spawn({
        let c = c.clone();
        async move { c.delete("things/none", None).await }
    });
    tokio::time::sleep(WAITS).await;
    hold.fail("injected EIO");
    let e = writer.await.unwrap().unwrap_err();
    assert!(matches!(e, StoreError::Unflushed(_)), "{e:?}");
    for e in [barrier.await.unwrap().unwrap_err(), missing.await.unwrap().unwrap_err()] {
        assert!(matches!(&e, StoreError::Failed(why) if why == "injected EIO"), "{e:?}");
    }
}

/// The store's revision counts the mutations that changed it, across restarts: an update
/// that changes nothing and a delete of a missing object leave it, and every mutation it
/// counts is in the tree when it is read (so a snapshot read after it holds them).
#[tokio::test]
async fn the_revision_counts_mutations_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let c = store.collection::<Spec>("things");
    assert_eq!(store.revision(), 0, "a new store");
    c.create("things/a", &spec("one")).await.unwrap();
    assert_eq!(store.revision(), 1);
    assert!(c.get("things/a").unwrap().is_some(), "counted, so in the tree");
    c.update("things/a", None, false, |_| spec("one")).await.unwrap();
    assert_eq!(store.revision(), 1, "an update that changes nothing");
    c.update("things/a", None, false, |_| spec("two")).await.unwrap();
    assert!(!c.delete("things/b", None).await.unwrap());
    assert_eq!(store.revision(), 2, "a delete of a missing object");
    let deleted = c.delete_applied("things/a", None).await.unwrap();
    assert_eq!(deleted.revision(), Some(3), "the delete's own, before it is on disk");
    assert!(deleted.durable().await.unwrap());
    assert_eq!((store.revision(), c.revision()), (3, 3));
    let unchanged = c.delete_applied("things/a", None).await.unwrap();
    assert_eq!(unchanged.revision(), None, "a write that changed nothing has none");
    drop((unchanged, c, store));
    let store = reopen(dir.path()).unwrap();
    assert_eq!(store.revision(), 3, "reopened");
    store.collection::<Spec>("things").create("things/a", &spec("three")).await.unwrap();
    assert_eq!(store.revision(), 4);
}
