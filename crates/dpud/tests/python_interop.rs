//! A gRPC client in another language (Python grpcio, stubs generated from proto/ at test time)
//! against the real agent. Requires python3 with grpcio, grpcio-tools, grpcio-health-checking,
//! grpcio-reflection and grpcio-status (`cargo xtask test` installs them); fails if missing.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::path::Path;
use std::process::Command;

use common::Env;

#[tokio::test(flavor = "multi_thread")]
async fn python_grpcio_client_interoperates() {
    let mut env = Env::new();
    env.start().await;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/interop.py");
    let certs = env.path("certs");
    // The script's temporary files go inside our own temp dir, so even a killed run leaves
    // nothing in /tmp; and the script must remove them itself when done.
    let tmp = env.path("python-tmp");
    std::fs::create_dir(&tmp).unwrap();
    let output = tokio::task::spawn_blocking({
        let args = vec![
            script.display().to_string(),
            "--endpoint".into(),
            format!("localhost:{}", env.operator_port),
            "--ca".into(),
            certs.join("ca.crt").display().to_string(),
            "--host-cert".into(),
            certs.join("host.crt").display().to_string(),
            "--host-key".into(),
            certs.join("host.key").display().to_string(),
            "--operator-cert".into(),
            certs.join("operator.crt").display().to_string(),
            "--operator-key".into(),
            certs.join("operator.key").display().to_string(),
            "--proto-dir".into(),
            workspace.join("proto").display().to_string(),
        ];
        let tmp = tmp.clone();
        move || {
            Command::new("python3").args(args).env("TMPDIR", tmp).output().expect("python3 runs")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python interop failed\nstdout:\n{stdout}\nstderr:\n{stderr}\nagent log:\n{}",
        env.log()
    );
    assert!(stdout.contains("interop: all checks passed"), "{stdout}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "the python client left temporary files behind: {left:?}");
}
