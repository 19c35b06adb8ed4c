use super::*;

#[derive(Clone, PartialEq, prost::Message)]
struct Spec {
    #[prost(string, tag = "1")]
    value: String,
}

fn spec(v: &str) -> Spec {
    Spec { value: v.to_owned() }
}

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
    // A token of one parent is not valid for another.
    assert!(matches!(
        c.list_under("p2/", 2, &first.next_page_token),
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
    loop {
        let page = c.list(1000, &token).unwrap();
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
