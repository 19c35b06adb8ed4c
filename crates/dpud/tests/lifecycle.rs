//! Process lifecycle of the real binary: systemd readiness over NOTIFY_SOCKET, JSON logs, and a
//! graceful SIGTERM that also stops the service it supervises.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, system_service_pid, workspace_bin};
use dpu_runtime::logging::LogFormat;
use dpud::config::Config;

#[test]
fn notifies_systemd_logs_json_and_stops_on_sigterm() {
    let env = Env::new();
    // JSON logs, by config.
    let text = std::fs::read_to_string(env.path("dpud.toml")).unwrap();
    let config = Config { log_format: LogFormat::Json, ..Config::parse(&text).unwrap() };
    std::fs::write(env.path("dpud.toml"), config.to_toml().unwrap()).unwrap();
    let notify_path = env.path("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(Duration::from_secs(30))).unwrap();

    let mut agent = Command::new(workspace_bin("dpud"))
        .arg("--config")
        .arg(env.path("dpud.toml"))
        .env("NOTIFY_SOCKET", &notify_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
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
    let pid = nix::unistd::Pid::from_raw(i32::try_from(agent.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = agent.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "dpud did not stop within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "dpud exited with {status}");
    let stderr = std::io::read_to_string(agent.stderr.take().unwrap()).unwrap();
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with('{') && first.contains("\"level\""), "not JSON logs: {first}");
    assert!(stderr.contains("STOPPING") || stderr.contains("shutting down"), "{stderr}");
    assert!(
        !std::path::Path::new(&format!("/proc/{service}/cmdline")).exists()
            || system_service_pid(&env.socket()).is_none(),
        "the supervised service outlived a graceful stop"
    );
}
