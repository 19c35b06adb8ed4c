//! Reconciliation: when the system service process dies, the agent (which supervises it here)
//! restarts it and re-applies the whole desired state, undoing drift made while it was down.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::time::{Duration, Instant};

use common::{Env, Who, kill_system_service, system_service_pid};
use dpu_proto::dpu::system::v1::system_internal_service_client::SystemInternalServiceClient;
use dpu_proto::dpu::system::v1::{
    ApplyState, CreateSysctlRequest, GetHealthRequest, GetSysctlRequest, ListAppliedSysctlsRequest,
    Sysctl, SysctlSpec,
};

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_service_gets_desired_state_again() {
    let mut env = Env::new();
    env.start().await;
    let client = env.client(Who::Operator).await;
    for (id, value) in [("net.ipv4.ip_forward", "1"), ("vm.swappiness", "10")] {
        client
            .system()
            .create_sysctl(CreateSysctlRequest {
                sysctl_id: id.into(),
                sysctl: Some(Sysctl {
                    spec: Some(SysctlSpec { value: value.into() }),
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }
    let forward = env.path("sysctl/net/ipv4/ip_forward");
    let swappiness = env.path("sysctl/vm/swappiness");
    wait_for("first apply", async || {
        let s = client
            .system()
            .get_sysctl(GetSysctlRequest { name: "sysctls/vm.swappiness".into() })
            .await;
        s.is_ok_and(|s| s.into_inner().status.unwrap().state == ApplyState::Applied as i32)
    })
    .await;
    assert_eq!(std::fs::read_to_string(&forward).unwrap().trim(), "1");
    assert_eq!(std::fs::read_to_string(&swappiness).unwrap().trim(), "10");

    let health = client.system().get_health(GetHealthRequest {}).await.unwrap().into_inner();
    let first_instance = health.services[0].instance_id.clone();
    let first_pid = system_service_pid(&env.socket()).expect("system service running");

    // Drift the kernel values behind the service's back (it applies only on a sync), then
    // kill it: written first, the drift cannot land after the restarted one re-applied.
    std::fs::write(&forward, "0\n").unwrap();
    std::fs::write(&swappiness, "60\n").unwrap();
    kill_system_service(&env.socket()).unwrap();

    // The agent restarts it and re-applies: files corrected, a new instance, one restart.
    wait_for("the values to be re-applied", async || {
        std::fs::read_to_string(&forward).unwrap().trim() == "1"
            && std::fs::read_to_string(&swappiness).unwrap().trim() == "10"
    })
    .await;
    // Looked for until found: should the killed service's own keep pass have corrected
    // the drift just before the kill, the values are right before the new one runs.
    wait_for("the system service to be restarted", async || {
        system_service_pid(&env.socket()).is_some_and(|pid| pid != first_pid)
    })
    .await;
    wait_for("health to show the new instance", async || {
        let h = client.system().get_health(GetHealthRequest {}).await.unwrap().into_inner();
        let s = &h.services[0];
        s.instance_id != first_instance && s.restarts == 1 && s.state == 1
    })
    .await;

    // The service's own view (its internal API) matches the desired state exactly.
    let mut internal = SystemInternalServiceClient::new(dpu_runtime::unix::channel(&env.socket()));
    let applied =
        internal.list_applied_sysctls(ListAppliedSysctlsRequest {}).await.unwrap().into_inner();
    let mut got: Vec<_> = applied
        .sysctls
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.spec.as_ref().unwrap().value.as_str(),
                s.status.as_ref().unwrap().state,
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("sysctls/net.ipv4.ip_forward", "1", ApplyState::Applied as i32),
            ("sysctls/vm.swappiness", "10", ApplyState::Applied as i32)
        ]
    );
}

/// An agent and its system service with `vm.swappiness` 5 applied; the file's path.
async fn swappiness_5_applied() -> (Env, std::path::PathBuf) {
    apply_swappiness_5(Env::new()).await
}

/// Starts the agent of `env` and has its system service apply `vm.swappiness` 5.
async fn apply_swappiness_5(mut env: Env) -> (Env, std::path::PathBuf) {
    env.start().await;
    let client = env.client(Who::Operator).await;
    client
        .system()
        .create_sysctl(CreateSysctlRequest {
            sysctl_id: "vm.swappiness".into(),
            sysctl: Some(Sysctl {
                spec: Some(SysctlSpec { value: "5".into() }),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let swappiness = env.path("sysctl/vm/swappiness");
    wait_for("apply", async || std::fs::read_to_string(&swappiness).unwrap().trim() == "5").await;
    (env, swappiness)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_keeps_running_through_an_agent_crash_and_is_adopted() {
    let (mut env, swappiness) = swappiness_5_applied().await;
    let pid = system_service_pid(&env.socket()).expect("service running");

    // The agent crashes; the service process goes on with its configuration.
    env.kill_agent();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(system_service_pid(&env.socket()), Some(pid), "the service died with the agent");
    let mut internal = SystemInternalServiceClient::new(dpu_runtime::unix::channel(&env.socket()));
    let applied =
        internal.list_applied_sysctls(ListAppliedSysctlsRequest {}).await.unwrap().into_inner();
    assert_eq!(applied.sysctls.len(), 1);

    // Drift while no agent runs; the restarted agent adopts the same process and re-applies.
    std::fs::write(&swappiness, "60\n").unwrap();
    env.start().await;
    wait_for("apply after agent restart", async || {
        std::fs::read_to_string(&swappiness).unwrap().trim() == "5"
    })
    .await;
    assert_eq!(
        system_service_pid(&env.socket()),
        Some(pid),
        "the agent started a second service instead of adopting"
    );
    let client = env.client(Who::Operator).await;
    let h = client.system().get_health(GetHealthRequest {}).await.unwrap().into_inner();
    assert_eq!(h.services[0].restarts, 0);
}

/// A stopped process: it holds its socket and answers nothing, a SIGTERM stays pending and
/// only SIGKILL ends it. Killed on drop, should the agent leave it running.
struct Hung(i32);

impl Hung {
    fn stop(pid: i32) -> Self {
        use nix::sys::signal::{Signal, kill};
        kill(nix::unistd::Pid::from_raw(pid), Signal::SIGSTOP).unwrap();
        Self(pid)
    }

    fn gone(&self) -> bool {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0), None).is_err()
            || dpu_runtime::process::stat(self.0).is_some_and(|s| !s.runs())
    }
}

impl Drop for Hung {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, kill};
        let _ = kill(nix::unistd::Pid::from_raw(self.0), Signal::SIGKILL);
    }
}

/// Waits until a new system service instance (not `hung`) re-applied `vm.swappiness` 5, and
/// checks that the hung one was ended.
async fn replaced(env: &Env, hung: &Hung, swappiness: &std::path::Path) {
    common::wait_for_up_to("a new instance", Duration::from_secs(30), async || {
        system_service_pid(&env.socket()).is_some_and(|p| p != hung.0)
            && std::fs::read_to_string(swappiness).unwrap().trim() == "5"
    })
    .await;
    assert!(hung.gone(), "the hung process was left running");
}

/// An adopted service that hangs (it holds its socket, so a new instance cannot bind it)
/// is stopped, as a child of the agent's own would be: SIGTERM, then SIGKILL, and a new
/// instance takes over and gets the desired state.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_adopted_service_is_replaced() {
    let (mut env, swappiness) = swappiness_5_applied().await;
    let old = system_service_pid(&env.socket()).expect("service running");
    env.kill_agent();
    env.start().await;
    wait_for("adoption", async || {
        env.client(Who::Operator).await.system().get_health(GetHealthRequest {}).await.is_ok()
    })
    .await;

    let hung = Hung::stop(old);
    std::fs::write(&swappiness, "60\n").unwrap();
    replaced(&env, &hung, &swappiness).await;
}

/// The service the agent started itself hangs: it is stopped (SIGTERM, then SIGKILL) and
/// a new one started, which gets the desired state; no agent restart needed.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_supervised_service_is_replaced() {
    let (env, swappiness) = swappiness_5_applied().await;
    let hung = Hung::stop(system_service_pid(&env.socket()).expect("service running"));
    std::fs::write(&swappiness, "60\n").unwrap();
    replaced(&env, &hung, &swappiness).await;
}

/// The service command is a wrapper that runs the service as its child instead of exec'ing
/// it (an operator's `sh -c` or script): when the service hangs, stopping only the wrapper
/// would leave it holding its socket, and no new instance could bind it. The agent stops
/// the child's whole process group (as systemd's KillMode=control-group stops a unit), so
/// the hung service goes too and a new one takes over and gets the desired state.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_service_behind_a_forking_wrapper_is_replaced() {
    let (env, swappiness) = apply_swappiness_5(wrapped(FORKING_WRAPPER)).await;
    let (old, _wrapper) = service_and_wrapper(&env);
    let hung = Hung::stop(old);
    std::fs::write(&swappiness, "60\n").unwrap();
    replaced(&env, &hung, &swappiness).await;
}

/// A wrapper script that runs the service as its child: `; :` leaves sh something to run
/// after the service, so it forks rather than execs.
const FORKING_WRAPPER: &str = "\"$0\" \"$@\"; :";

/// An Env whose system service `command` is `sh -c script` followed by the service's own
/// command (as `$0` and `$@`).
fn wrapped(script: &'static str) -> Env {
    let mut env = Env::new();
    env.tweak_config(move |config| {
        let command = config.services[0].command.as_mut().unwrap();
        let wrapper = ["sh", "-c", script].map(String::from);
        *command = wrapper.into_iter().chain(command.drain(..)).collect();
    });
    env
}

/// The running system service and the process group of the wrapper it runs under (checked
/// to be its parent, not the agent: the wrapper forked).
fn service_and_wrapper(env: &Env) -> (i32, Group) {
    let service = system_service_pid(&env.socket()).expect("service running");
    let stat = dpu_runtime::process::stat(service).expect("the service's /proc/PID/stat");
    assert_ne!(u32::try_from(stat.ppid).ok(), Some(env.agent_pid()), "the wrapper exec'ed");
    assert_eq!(stat.pgrp, stat.ppid, "the wrapper leads the service's process group");
    (service, Group(stat.pgrp))
}

/// A process group a test saw a service run in: killed on drop, should the agent leave any
/// of it running.
struct Group(i32);

impl Group {
    /// The group of the running system service.
    fn of_service(env: &Env) -> Self {
        let service = system_service_pid(&env.socket()).expect("service running");
        Self(dpu_runtime::process::stat(service).expect("the service's /proc/PID/stat").pgrp)
    }

    fn gone(&self) -> bool {
        !dpu_runtime::process::group_runs(self.0)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, killpg};
        let _ = killpg(nix::unistd::Pid::from_raw(self.0), Signal::SIGKILL);
    }
}

/// A service behind a forking wrapper, hung while no agent ran: the agent that starts finds
/// it holding the socket, though its executable is not the `command`'s program (`sh`), by
/// its wrapper, which is. It is stopped with its wrapper's whole process group, as the
/// agent that started them would have, and a new one takes over.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_service_behind_a_wrapper_found_at_start_is_replaced() {
    let (mut env, swappiness) = apply_swappiness_5(wrapped(FORKING_WRAPPER)).await;
    let (old, wrapper) = service_and_wrapper(&env);
    env.kill_agent();
    let hung = Hung::stop(old);
    std::fs::write(&swappiness, "60\n").unwrap();
    env.start().await;
    replaced(&env, &hung, &swappiness).await;
    assert!(wrapper.gone(), "the hung service's wrapper was left running");
    let log = env.log();
    let found = format!("wrapper={}", wrapper.0);
    assert!(
        log.lines().any(|l| l.contains("holds the socket") && l.contains(&found)),
        "the stop and the wrapper it was found by are not logged:\n{log}"
    );
}

/// A service behind a wrapper that also starts a helper (here a `sleep`; a log shipper, a
/// watchdog), adopted by an agent after a crash and then hung: it is stopped with its
/// wrapper's whole process group, as the agent that started it would have stopped it, so
/// neither the wrapper nor its helper outlives it.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_adopted_service_is_stopped_with_its_wrappers_group() {
    let wrapper_with_helper = "sleep 300 & \"$0\" \"$@\"; wait";
    let (mut env, swappiness) = apply_swappiness_5(wrapped(wrapper_with_helper)).await;
    let (old, wrapper) = service_and_wrapper(&env);
    env.kill_agent();
    env.start().await;
    assert_eq!(system_service_pid(&env.socket()), Some(old), "not adopted");

    let hung = Hung::stop(old);
    std::fs::write(&swappiness, "60\n").unwrap();
    replaced(&env, &hung, &swappiness).await;
    // The agent goes first, so that it starts no instance again when the test ends the new
    // one's group (whose helper would outlive the test).
    let new = Group::of_service(&env);
    env.kill_agent();
    assert!(wrapper.gone(), "the adopted service's wrapper or its helper was left running");
    drop(new);
}

/// A service hung while no agent ran: the agent that starts can neither adopt it (it does
/// not answer) nor start another (it holds the socket), so it stops the process holding the
/// socket, found to be the service's program, and starts a new one.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_service_found_at_start_is_replaced() {
    let (mut env, swappiness) = swappiness_5_applied().await;
    let old = system_service_pid(&env.socket()).expect("service running");
    env.kill_agent();
    let hung = Hung::stop(old);
    std::fs::write(&swappiness, "60\n").unwrap();
    env.start().await;
    replaced(&env, &hung, &swappiness).await;
    let log = env.log();
    assert!(log.contains("holds the socket"), "why it was stopped is not logged:\n{log}");
}

/// The card keeps a parameter at its value though nothing asks: one whose file does not
/// exist yet (a VF's, before the VF) fails, and is set by the agent's periodic re-sync once
/// the file appears; one changed behind the service's back is set again.
#[tokio::test(flavor = "multi_thread")]
async fn failed_and_drifted_sysctls_are_set_again_unasked() {
    let mut env = Env::new();
    env.start().await;
    let client = env.client(Who::Operator).await;
    let id = "net.ipv4.conf.pf0vf3.forwarding";
    client
        .system()
        .create_sysctl(CreateSysctlRequest {
            sysctl_id: id.into(),
            sysctl: Some(Sysctl {
                spec: Some(SysctlSpec { value: "1".into() }),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let state = async || {
        let name = format!("sysctls/{id}");
        let s = client.system().get_sysctl(GetSysctlRequest { name }).await;
        s.ok().and_then(|s| s.into_inner().status).map(|s| s.state)
    };
    wait_for("FAILED without its file", async || state().await == Some(ApplyState::Failed as i32))
        .await;
    let dir = env.path("sysctl/net/ipv4/conf/pf0vf3");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("forwarding");
    std::fs::write(&file, "0\n").unwrap();
    let value = || std::fs::read_to_string(&file).unwrap().trim().to_owned();
    wait_for("set once the file appeared", async || {
        state().await == Some(ApplyState::Applied as i32) && value() == "1"
    })
    .await;
    std::fs::write(&file, "0\n").unwrap();
    wait_for("set again after a change behind its back", async || value() == "1").await;
}
