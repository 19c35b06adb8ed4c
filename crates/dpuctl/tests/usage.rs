//! Command lines dpuctl refuses before it connects: exit 2 and the reason, as clap's own.

use std::process::{Command, Stdio};

/// Commands that print no objects (apply, diff, delete, clear-host-write-protection, certs)
/// refuse `-o json` and `-o yaml` rather than ignore them: a script asking for JSON would
/// otherwise parse "created" lines. Refused before anything is read, written or called.
#[test]
fn commands_without_structured_output_refuse_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let pki = pki.to_str().unwrap();
    let commands: [&[&str]; 5] = [
        &["apply", "-f", "objects.yaml"],
        &["diff", "-f", "objects.yaml"],
        &["delete", "volume", "v1"],
        &["nvmf", "clear-host-write-protection", "s1/namespaces/1"],
        &["certs", "init", pki],
    ];
    for args in commands {
        for format in ["json", "yaml"] {
            let out = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
                .env_clear()
                .args(["-o", format])
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} -o {format}: {stderr}");
            let first = stderr.lines().next().unwrap_or_default();
            assert!(first.contains(&format!("-o {format}")), "{args:?}: {stderr}");
            assert!(first.contains(args[0]), "{args:?}: {stderr}");
        }
    }
    assert!(!dir.path().join("pki").exists(), "certs init ran");
}
