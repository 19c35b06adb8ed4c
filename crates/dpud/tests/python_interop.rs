//! A gRPC client in another language (Python grpcio, stubs generated from proto/ at test time)
//! against the real agent: the system API (health, reflection, inventory, errors) and the
//! NVMe-oF API end to end, whose objects this test's NVMe/TCP initiator then uses. Requires
//! python3 with grpcio, grpcio-tools, grpcio-health-checking, grpcio-reflection and
//! grpcio-status (`cargo xtask test` installs them); fails if missing.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::{Env, free_port, wait_for, write_and_read};
use dpu_nvmf::initiator::{HostController, HostOptions, InitiatorError};
use dpu_nvmf_proto::cqe::Status as NvmeStatus;

/// The most one run of a script may take; it is killed then.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `tests/python/<script>` against `env`'s agent with the CA, both roles' certificates,
/// the proto directory and `extra` arguments; fails the test unless it exits 0 within
/// [`SCRIPT_TIMEOUT`], printing `passed`, and removes every temporary file it made.
async fn run_python(env: &Env, script: &str, extra: &[String], passed: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let certs = env.path("certs");
    // The script's temporary files go inside our own temp dir, so even a killed run leaves
    // nothing in /tmp; and the script must remove them itself when done.
    let tmp = env.path("python-tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let file = |name: &str| certs.join(name).display().to_string();
    let run = tokio::process::Command::new("python3")
        .arg(dir.join("tests/python").join(script))
        .args(["--endpoint", &format!("localhost:{}", env.operator_port)])
        .args(["--ca", &file("ca.crt")])
        .args(["--host-cert", &file("host.crt"), "--host-key", &file("host.key")])
        .args(["--operator-cert", &file("operator.crt"), "--operator-key", &file("operator.key")])
        .args(["--proto-dir", &dir.join("../../proto").display().to_string()])
        .args(extra)
        .env("TMPDIR", &tmp)
        // No __pycache__ in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("{script} ran longer than {SCRIPT_TIMEOUT:?}"))
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{script}:\n{stdout}");
    assert!(
        output.status.success(),
        "{script} failed\nstdout:\n{stdout}\nstderr:\n{stderr}\nagent log:\n{}",
        env.log()
    );
    assert!(stdout.contains(passed), "{stdout}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "the python client left temporary files behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn python_grpcio_client_interoperates() {
    let mut env = Env::new();
    env.start().await;
    run_python(&env, "interop.py", &[], "interop: all checks passed").await;
}

const NQN: &str = "nqn.2024-01.io.example:python-interop";
const HOST_NQN: &str = "nqn.2014-08.org.example:python-interop-host";
/// What the Python client's masked update sets; Identify must show it.
const MODEL: &str = "updated from python";

/// The Python client creates, pages, updates and checks roles (`nvmf_api.py --phase create`);
/// this test's initiator proves the objects real: only the allowed host connects, Identify
/// shows the updated model number, a block written reads back. Python then finds that I/O in
/// the statistics and deletes everything, and the listener's port closes.
#[tokio::test(flavor = "multi_thread")]
async fn python_grpcio_client_drives_the_nvmf_api() {
    let mut env = Env::with_nvmf();
    env.start().await;
    let port = free_port();
    let args = |phase: &str| -> Vec<String> {
        ["--phase", phase, "--nqn", NQN, "--host-nqn", HOST_NQN, "--model-number", MODEL]
            .map(str::to_owned)
            .into_iter()
            .chain(["--listener-port".to_owned(), port.to_string()])
            .collect()
    };
    run_python(&env, "nvmf_api.py", &args("create"), "nvmf_api create: all checks passed").await;

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    tokio::time::timeout(Duration::from_secs(30), use_the_target(addr))
        .await
        .expect("the NVMe/TCP I/O ended within 30 s");

    let done = "nvmf_api stats-and-delete: all checks passed";
    run_python(&env, "nvmf_api.py", &args("stats-and-delete"), done).await;
    wait_for("the deleted listener's port to close", async || {
        tokio::net::TcpStream::connect(addr).await.is_err()
    })
    .await;
}

/// As another host, a Connect is refused; as the allowed one, Identify shows the serial and
/// the model number Python set, and a block written reads back (one write, one read).
async fn use_the_target(addr: SocketAddr) {
    let stranger = HostOptions { hostnqn: format!("{HOST_NQN}-not"), ..HostOptions::default() };
    let refused = HostController::connect(addr, NQN, &stranger, 1).await.err();
    let invalid_host = NvmeStatus::CONNECT_INVALID_HOST;
    assert!(
        matches!(&refused, Some(InitiatorError::Status(s))
            if (s.sct(), s.sc()) == (invalid_host.sct(), invalid_host.sc())),
        "a host not allowed: {refused:?}"
    );
    let allowed = HostOptions { hostnqn: HOST_NQN.into(), ..HostOptions::default() };
    let mut c = HostController::connect(addr, NQN, &allowed, 1).await.unwrap();
    let id = c.admin.identify(1, 0).await.unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim_end().to_owned();
    assert_eq!((text(&id[4..24]), text(&id[24..64])), ("PYAPI001".into(), MODEL.into()));
    write_and_read(&mut c, 8, 0xa5).await;
    c.shutdown().await.unwrap();
}
