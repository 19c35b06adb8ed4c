//! Acknowledged writes survive SIGKILL: write in a loop, kill the agent at a random moment,
//! restart it, and find every object whose create returned OK.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Env, Who};
use dpu_proto::dpu::system::v1::{CreateSysctlRequest, GetSysctlRequest, Sysctl, SysctlSpec};
use rand::Rng;
use tokio::sync::Mutex;

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
