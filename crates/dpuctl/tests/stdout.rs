//! dpuctl's output to a reader that went away.

use std::process::{Command, Stdio};

/// A closed stdout (`dpuctl ... | head` once head has exited) ends dpuctl with its one
/// error line and exit code 1, not a panic (exit 101).
#[test]
fn a_closed_stdout_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["certs", "init"])
        .arg(dir.path().join("pki"))
        .stdin(Stdio::null())
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("dpuctl: writing to stdout: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
