//! Process lifecycle of the real binary: systemd readiness over NOTIFY_SOCKET, JSON logs, a
//! graceful SIGTERM that also stops the service it supervises, and an exit (to be restarted)
//! once its state store failed.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, Who, system_service_pid, workspace_bin};
use dpu_proto::dpu::system::v1::{Sysctl, SysctlSpec, UpdateSysctlRequest};
use dpu_runtime::logging::LogFormat;
use dpud::config::Config;
use tonic::Code;

#[test]
fn notifies_systemd_logs_json_and_stops_on_sigterm() {
    let mut env = Env::new();
    // JSON logs, by config.
    let text = std::fs::read_to_string(env.path("dpud.toml")).unwrap();
    let config = Config { log_format: LogFormat::Json, ..Config::parse(&text).unwrap() };
    std::fs::write(env.path("dpud.toml"), config.to_toml().unwrap()).unwrap();
    let notify_path = env.path("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(Duration::from_secs(30))).unwrap();

    let agent = Command::new(workspace_bin("dpud"))
        .arg("--config")
        .arg(env.path("dpud.toml"))
        .env("NOTIFY_SOCKET", &notify_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Owned by the Env from here: a failed assertion kills it rather than leaving it running.
    env.adopt_agent(agent);
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).expect("no readiness notification within 30 s");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("READY=1"));

    // Wait for the supervised service, then stop the agent politely.
    let deadline = Instant::now() + Duration::from_secs(20);
    let service = loop {
        if let Some(pid) = system_service_pid(&env.socket()) {
            break pid;
        }
        assert!(Instant::now() < deadline, "system service never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    let pid = nix::unistd::Pid::from_raw(i32::try_from(env.agent_pid()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = env.agent_mut().try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "dpud did not stop within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "dpud exited with {status}");
    let stderr = std::io::read_to_string(env.agent_mut().stderr.take().unwrap()).unwrap();
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with('{') && first.contains("\"level\""), "not JSON logs: {first}");
    assert!(stderr.contains("STOPPING") || stderr.contains("shutting down"), "{stderr}");
    assert!(
        !std::path::Path::new(&format!("/proc/{service}/cmdline")).exists()
            || system_service_pid(&env.socket()).is_none(),
        "the supervised service outlived a graceful stop"
    );
}

/// Size of the tmpfs the store runs on in `exits_once_its_store_fails`.
const STATE_FS_BYTES: u64 = 4 << 20;

/// A store whose flush fails (here: its filesystem full) makes the binary stop as on
/// SIGTERM (the service it supervises stopped with it) and exit with a failure, saying
/// why, so that systemd starts it again on what the disk holds. The store is a tmpfs in a
/// mount namespace of dpud's own (unshare(1)), filled through /proc/<pid>/root.
#[tokio::test]
async fn exits_once_its_store_fails() {
    let mut env = Env::new();
    let state = env.path("state");
    std::fs::create_dir(&state).unwrap();
    let mount = format!("mount -t tmpfs -o size={STATE_FS_BYTES},mode=0700 dpud-state \"$0\"");
    env.launcher = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c"]
        .map(String::from)
        .into_iter()
        .chain([format!("{mount} && exec \"$@\""), state.display().to_string()])
        .collect();
    env.start().await;
    let service = system_service_pid(&env.socket()).expect("the supervised system service");

    // The store's directory as dpud sees it: its tmpfs, never the test's own filesystem.
    let seen = std::path::PathBuf::from(format!("/proc/{}/root", env.agent_pid()))
        .join(state.strip_prefix("/").unwrap());
    let fs = nix::sys::statvfs::statvfs(&seen).unwrap();
    assert!(
        fs.blocks() * fs.fragment_size() <= STATE_FS_BYTES,
        "{} is no small tmpfs",
        seen.display()
    );
    let mut filler = std::fs::File::create(seen.join("filler")).unwrap();
    let full = loop {
        if let Err(e) = std::io::Write::write_all(&mut filler, &[0; 64 << 10]) {
            break e;
        }
    };
    assert_eq!(full.raw_os_error(), Some(nix::libc::ENOSPC), "{full}");

    // Writes go on landing in pages sled's log already holds, until one needs a new page.
    let client = env.client(Who::Operator).await;
    let failed = 'write: {
        for i in 0..10_000 {
            let update = UpdateSysctlRequest {
                sysctl: Some(Sysctl {
                    name: "sysctls/vm.swappiness".into(),
                    spec: Some(SysctlSpec { value: (i % 100).to_string() }),
                    ..Default::default()
                }),
                update_mask: None,
                allow_missing: true,
            };
            if let Err(e) = client.system().update_sysctl(update).await {
                break 'write e;
            }
        }
        panic!("10 000 writes on a full filesystem were all flushed");
    };
    assert_eq!(failed.code(), Code::Unknown, "{failed:?}");

    let status = env.wait_agent_exit().await;
    assert_eq!(status.code(), Some(1), "dpud exited with {status}");
    let log = env.log();
    let stopping = log
        .find("the state store failed to flush; stopping, to start again from what is on disk")
        .unwrap_or_else(|| panic!("no log line says why dpud stopped:\n{log}"));
    let stopped = log.find("dpud stopped").unwrap_or_else(|| panic!("no orderly stop:\n{log}"));
    assert!(stopping < stopped, "{log}");
    // Every task stopped, the listeners' connections (the client's here) closed.
    assert!(!log.contains("did not stop"), "{log}");
    assert!(log.contains("Error: the state store failed to flush"), "{log}");
    // The supervised service was stopped (it logs the signal), not killed with the agent.
    assert!(log[stopping..].contains("\"SIGTERM\""), "{log}");
    assert!(
        !std::path::Path::new(&format!("/proc/{service}/cmdline")).exists()
            || system_service_pid(&env.socket()).is_none(),
        "the supervised service outlived the agent"
    );
}
