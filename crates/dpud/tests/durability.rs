//! Acknowledged writes survive SIGKILL: write in a loop, kill the agent at a random moment,
//! restart it, and find every object whose create returned OK. And no answer is built on a
//! write that is not on disk yet: with the writer's flush held, another client's reads of
//! it wait for the flush (and fail with it).

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common::{Env, Who};
use dpu_client::apply::{Outcome, apply};
use dpu_client::manifest::Resource;
use dpu_proto::dpu::system::v1::{CreateSysctlRequest, GetSysctlRequest, Sysctl, SysctlSpec};
use rand::Rng;
use tokio::sync::Mutex;
use tonic::Code;

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_objects_survive_sigkill() {
    let mut env = Env::new();
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let mut next = 0u32;
    for round in 0..4 {
        env.start().await;
        let client = env.client(Who::Operator).await;
        let before = acknowledged.lock().await.len();
        let stop = Arc::new(AtomicBool::new(false));
        // Two writers, so the kill can land between any two flushes.
        let mut writers = Vec::new();
        for w in 0..2u32 {
            let (client, acknowledged, stop) = (client.clone(), acknowledged.clone(), stop.clone());
            let base = next + w * 100_000;
            writers.push(tokio::spawn(async move {
                // Bounded: at most 5,000 writes per writer per round.
                for i in 0..5_000u32 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let id = format!("dev.durability.k{}", base + i);
                    let value = format!("{round}-{i}");
                    let request = CreateSysctlRequest {
                        sysctl_id: id.clone(),
                        sysctl: Some(Sysctl {
                            spec: Some(SysctlSpec { value: value.clone() }),
                            ..Default::default()
                        }),
                    };
                    match client.system().create_sysctl(request).await {
                        Ok(_) => acknowledged.lock().await.push((format!("sysctls/{id}"), value)),
                        Err(_) => break,
                    }
                }
            }));
        }
        next += 1_000_000;
        // The kill lands a random time after this round's first acknowledgement (a
        // durable write may take a while on a busy disk; bounded).
        let first = tokio::time::Instant::now() + Duration::from_secs(30);
        while acknowledged.lock().await.len() == before && tokio::time::Instant::now() < first {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let delay = rand::rng().random_range(0..600);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // Alternate a crash of the agent alone with a power cut of everything.
        if round % 2 == 0 {
            env.kill_agent()
        } else {
            env.kill_all()
        }
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.unwrap();
        }
        let count = acknowledged.lock().await.len() - before;
        assert!(count > 0, "round {round}: no write was acknowledged before the kill");

        env.start().await;
        let client = env.client(Who::Operator).await;
        for (name, value) in acknowledged.lock().await.iter() {
            let got = client
                .system()
                .get_sysctl(GetSysctlRequest { name: name.clone() })
                .await
                .unwrap_or_else(|e| {
                    panic!("round {round}: acknowledged {name} lost after SIGKILL: {e}")
                })
                .into_inner();
            assert_eq!(&got.spec.unwrap().value, value, "round {round}: {name}");
        }
        env.kill_all();
    }
}

/// The store the in-process agent of `answers_wait_for_the_flush_of_what_they_show`
/// opened, to hold its flushes.
static STORE: OnceLock<dpu_store::Store> = OnceLock::new();

fn open_and_keep(dir: &std::path::Path) -> dpu_store::Result<dpu_store::Store> {
    let store = dpu_store::Store::open(dir)?;
    let _ = STORE.set(store.clone());
    Ok(store)
}

/// How long a call is given to show that it waits (it would answer well within).
const WAITS: Duration = Duration::from_millis(300);

/// An answer built on what the agent's store shows is given only once that is on disk. While
/// client A's `apply` waits for its flush (held here; a slow disk, the audit's strace delay),
/// client B's Get of the object, and B's `apply` of the same spec (which reads it and finds
/// it unchanged), do not answer: a crash then would take back what they said. They answer
/// once the flush is done, and fail with it (UNAVAILABLE) when it fails, while A's outcome
/// is UNKNOWN.
#[tokio::test(flavor = "multi_thread")]
async fn answers_wait_for_the_flush_of_what_they_show() {
    let env = Env::new();
    let config = dpud::Config::load(&env.path("dpud.toml")).unwrap();
    let agent = dpud::Agent::start_opening(config, open_and_keep).await.unwrap();
    let store = STORE.get().unwrap().clone();
    let (a, b) = (env.client(Who::Operator).await, env.client(Who::Operator).await);
    let sysctl = |value: &str| Resource::Sysctl {
        id: "vm.swappiness".into(),
        spec: SysctlSpec { value: value.into() },
    };
    let applying = |client: &dpu_client::Client, value: &str| {
        let (client, resource) = (client.clone(), sysctl(value));
        tokio::spawn(async move { apply(&client, &resource).await.map(|a| a.outcome) })
    };
    let getting = |client: &dpu_client::Client| {
        let request = GetSysctlRequest { name: "sysctls/vm.swappiness".into() };
        let mut system = client.system();
        tokio::spawn(async move { system.get_sysctl(request).await.map(|r| r.into_inner()) })
    };

    let hold = store.hold_flushes();
    let a_apply = applying(&a, "10");
    hold.flush_waiting().await;
    let (b_get, b_apply) = (getting(&b), applying(&b, "10"));
    tokio::time::sleep(WAITS).await;
    assert!(!b_get.is_finished(), "B's Get answered before A's write was on disk");
    assert!(!b_apply.is_finished(), "B's apply answered before A's write was on disk");
    hold.release();
    assert_eq!(a_apply.await.unwrap().unwrap(), Outcome::Created);
    assert_eq!(b_get.await.unwrap().unwrap().spec.unwrap().value, "10");
    assert_eq!(b_apply.await.unwrap().unwrap(), Outcome::Unchanged);

    let hold = store.hold_flushes();
    let a_apply = applying(&a, "20");
    hold.flush_waiting().await;
    let b_get = getting(&b);
    tokio::time::sleep(WAITS).await;
    assert!(!b_get.is_finished(), "B's Get answered before A's write was on disk");
    hold.fail("injected EIO");
    assert_eq!(a_apply.await.unwrap().unwrap_err().code(), Code::Unknown);
    let e = b_get.await.unwrap().unwrap_err();
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    agent.shutdown().await;
}
