//! dpuctl, the real binary, against the real agent: apply is idempotent, diff reports and
//! changes nothing, output formats parse, errors are one line with a non-zero exit.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::path::Path;
use std::process::Output;

use common::{Env, Who, dpuctl, ok, workspace_bin};
use dpu_proto::dpu::system::v1::ListAppliedSysctlsRequest;
use dpu_proto::dpu::system::v1::system_internal_service_client::SystemInternalServiceClient;

fn fails(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "error is not one line: {stderr:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_get_list_diff_delete() {
    let mut env = Env::new();
    env.start().await;
    let manifest = env.path("sysctls.yaml");
    std::fs::write(
        &manifest,
        "kind: Sysctl\nname: net.ipv4.ip_forward\nspec:\n  value: \"1\"\n---\nkind: Sysctl\nname: vm.swappiness\nspec:\n  value: \"10\"\n",
    )
    .unwrap();
    let m = manifest.to_str().unwrap();

    // The host role is refused: one line per object, exit 1.
    let refused = dpuctl(&env, Who::Host, &["apply", "-f", m]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(stderr.lines().all(|l| l.contains("PERMISSION_DENIED")), "{stderr}");

    let first = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert_eq!(first, "sysctls/net.ipv4.ip_forward created\nsysctls/vm.swappiness created\n");
    let again = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m]));
    assert_eq!(again, "sysctls/net.ipv4.ip_forward unchanged\nsysctls/vm.swappiness unchanged\n");
    // Nothing differs: diff exits 0 and prints nothing.
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &["diff", "-f", m])), "");

    std::fs::write(&manifest, "kind: Sysctl\nname: vm.swappiness\nspec:\n  value: \"20\"\n")
        .unwrap();
    let diff = dpuctl(&env, Who::Operator, &["diff", "-f", m]);
    assert_eq!(diff.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&diff.stdout),
        "~ sysctls/vm.swappiness: spec.value \"10\" -> \"20\"\n"
    );
    // diff changed nothing.
    let yaml = ok(&dpuctl(&env, Who::Host, &["get", "sysctl", "vm.swappiness", "-o", "yaml"]));
    assert!(yaml.contains("value: '10'") || yaml.contains("value: \"10\""), "{yaml}");
    assert_eq!(
        ok(&dpuctl(&env, Who::Operator, &["apply", "-f", m])),
        "sysctls/vm.swappiness configured\n"
    );

    // What get and list print as YAML or JSON goes back to apply as it is: it names its kind,
    // and apply ignores what the agent adds (status, generation, etag, times). A list is a
    // manifest of its objects.
    for (args, file) in [
        (&["get", "sysctl", "vm.swappiness", "-o", "yaml"][..], "got.yaml"),
        (&["get", "sysctl", "vm.swappiness", "-o", "json"][..], "got.json"),
        (&["list", "sysctls", "-o", "yaml"][..], "listed.yaml"),
        (&["list", "sysctls", "-o", "json"][..], "listed.json"),
    ] {
        let printed = ok(&dpuctl(&env, Who::Host, args));
        let path = env.path(file);
        std::fs::write(&path, &printed).unwrap();
        let out = dpuctl(&env, Who::Operator, &["apply", "-f", path.to_str().unwrap()]);
        let applied = ok(&out);
        let lines: Vec<&str> = applied.lines().collect();
        let want = if args[0] == "get" { 1 } else { 2 };
        assert_eq!(lines.len(), want, "{args:?}: {applied}\n{printed}");
        assert!(lines.iter().all(|l| l.ends_with(" unchanged")), "{args:?}: {applied}");
    }

    // JSON output is the proto3 JSON mapping; the table names every object.
    let json = ok(&dpuctl(&env, Who::Host, &["list", "sysctls", "-o", "json"]));
    assert!(json.contains("\"name\": \"sysctls/vm.swappiness\""), "{json}");
    assert!(json.contains("\"generation\": \"2\""), "{json}");
    let table = ok(&dpuctl(&env, Who::Host, &["list", "sysctls"]));
    assert!(table.starts_with("NAME"), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");

    // Inventory and health as tables and as JSON.
    let inv = ok(&dpuctl(&env, Who::Host, &["inventory"]));
    assert!(inv.contains("INTERFACE") && inv.contains("lo"), "{inv}");
    let health = ok(&dpuctl(&env, Who::Host, &["health", "-o", "json"]));
    assert!(health.contains("SERVING_STATE_SERVING"), "{health}");
    let version = format!("\"agentVersion\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(health.contains(&version), "{health}");
    // The table: the system service's instance (shortened) and its last sync, in UTC.
    let table = ok(&dpuctl(&env, Who::Host, &["health"]));
    let system = table.lines().find(|l| l.starts_with("system ")).unwrap_or_default();
    let cells: Vec<&str> = system.split_whitespace().collect();
    assert!(cells.len() >= 6, "{table}");
    assert!(cells[3].len() == 12 && health.contains(cells[3]), "{table}{health}");
    assert!(cells[5].ends_with('Z') && cells[5].contains('T'), "{table}");
    let metrics = ok(&dpuctl(&env, Who::Operator, &["metrics"]));
    assert!(metrics.contains("/dpu.system.v1.SystemService/CreateSysctl"), "{metrics}");

    let deleted = ok(&dpuctl(&env, Who::Operator, &["delete", "sysctl", "vm.swappiness"]));
    assert_eq!(deleted, "sysctls/vm.swappiness deleted\n");
    fails(&dpuctl(&env, Who::Operator, &["get", "sysctl", "vm.swappiness"]), 1, "NOT_FOUND");
    fails(&dpuctl(&env, Who::Operator, &["delete", "sysctl", "vm.swappiness"]), 1, "NOT_FOUND");
    // --allow-missing succeeds, and does not claim to have deleted anything.
    let missing = &["delete", "sysctl", "vm.swappiness", "--allow-missing"];
    let missing = ok(&dpuctl(&env, Who::Operator, missing));
    assert_eq!(missing, "sysctls/vm.swappiness not found (nothing to delete)\n");

    // --wait returns once the system service answered a sync without it: it holds it no
    // more. A kind whose service the agent lacks cannot be confirmed: exit 1, saying so.
    let args = ["delete", "sysctl", "net.ipv4.ip_forward", "--wait=30s"];
    assert_eq!(ok(&dpuctl(&env, Who::Operator, &args)), "sysctls/net.ipv4.ip_forward deleted\n");
    let channel = dpu_runtime::unix::channel(&env.socket());
    let mut system = SystemInternalServiceClient::new(channel);
    let applied = system.list_applied_sysctls(ListAppliedSysctlsRequest {}).await.unwrap();
    let names: Vec<String> = applied.into_inner().sysctls.into_iter().map(|s| s.name).collect();
    assert!(names.is_empty(), "the system service still holds {names:?}");
    let args = ["delete", "bridge", "b1", "--allow-missing", "--wait"];
    fails(&dpuctl(&env, Who::Operator, &args), 1, "not configured with the switch service");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_one_line_and_non_zero() {
    let mut env = Env::new();
    env.start().await;
    let bad = env.path("bad.yaml");
    std::fs::write(&bad, "kind: Sysctl\nname: vm.swappiness\nspec:\n  valeu: \"1\"\n").unwrap();
    fails(&dpuctl(&env, Who::Operator, &["apply", "-f", bad.to_str().unwrap()]), 1, "valeu");
    fails(
        &dpuctl(&env, Who::Operator, &["apply", "-f", "/nonexistent.yaml"]),
        1,
        "/nonexistent.yaml",
    );
    // Input dpuctl refuses (a bad manifest above, an unknown kind) is exit 1, as kubectl.
    fails(&dpuctl(&env, Who::Operator, &["get", "pods", "x"]), 1, "unknown kind");
    fails(&dpuctl(&env, Who::Operator, &["get", "sysctl", "a..b"]), 1, "INVALID_ARGUMENT");
    let unreachable = |args: &[&str]| {
        std::process::Command::new(workspace_bin("dpuctl"))
            .args(["--endpoint", "https://127.0.0.1:1", "--ca"])
            .arg(env.path("certs/ca.crt"))
            .arg("--cert")
            .arg(env.path("certs/host.crt"))
            .arg("--key")
            .arg(env.path("certs/host.key"))
            .args(["--timeout", "2"])
            .args(args)
            .output()
            .unwrap()
    };
    fails(&unreachable(&["health"]), 1, "cannot connect");
    // diff's 1 means differences, so its failures are 2 (as diff(1) and kubectl diff):
    // an unreachable card or a bad manifest is no drift.
    fails(&unreachable(&["diff", "-f", bad.to_str().unwrap()]), 2, "cannot connect");
    fails(&dpuctl(&env, Who::Operator, &["diff", "-f", bad.to_str().unwrap()]), 2, "valeu");
    fails(&dpuctl(&env, Who::Host, &["diff", "-f", "/nonexistent.yaml"]), 2, "/nonexistent.yaml");
    // A context file (relative paths are relative to it) replaces the flags.
    std::fs::write(
        env.path("host.context.toml"),
        format!(
            "endpoint = \"https://127.0.0.1:{}\"\nca = \"certs/ca.crt\"\ncert = \"certs/host.crt\"\nkey = \"certs/host.key\"\n",
            env.host_port
        ),
    )
    .unwrap();
    let with_context = std::process::Command::new(workspace_bin("dpuctl"))
        .arg("--context")
        .arg(env.path("host.context.toml"))
        .arg("health")
        .output()
        .unwrap();
    assert!(ok(&with_context).contains("SERVING"));
    // A context named on the command line outranks the environment (left from another
    // card); flags typed outrank the context; DPUCTL_CONTEXT ranks below the variables.
    let context = |args: &[&str], env: &[(&str, &Path)]| {
        std::process::Command::new(workspace_bin("dpuctl"))
            .env_clear()
            .envs(env.iter().copied())
            .args(["--timeout", "2"])
            .args(args)
            .output()
            .unwrap()
    };
    let ctx = env.path("host.context.toml");
    let elsewhere = [
        ("DPUCTL_ENDPOINT", Path::new("https://127.0.0.1:1")),
        ("DPUCTL_CA", Path::new("/nonexistent/ca.crt")),
    ];
    let named = context(&["--context", ctx.to_str().unwrap(), "health"], &elsewhere);
    assert!(ok(&named).contains("SERVING"));
    let typed = ["--context", ctx.to_str().unwrap(), "health", "--endpoint", "https://127.0.0.1:1"];
    fails(&context(&typed, &[]), 1, "cannot connect to https://127.0.0.1:1");
    let from_env = context(&["health"], &[("DPUCTL_CONTEXT", &ctx), elsewhere[0]]);
    fails(&from_env, 1, "cannot connect to https://127.0.0.1:1");
    // `~/` in a context file is the home directory.
    let home_ctx = env.path("home.context.toml");
    let text = std::fs::read_to_string(&ctx).unwrap().replace("\"certs/", "\"~/certs/");
    std::fs::write(&home_ctx, text).unwrap();
    let home = env.path("");
    let at_home = context(&["--context", home_ctx.to_str().unwrap(), "health"], &[("HOME", &home)]);
    assert!(ok(&at_home).contains("SERVING"));
    let no_identity = std::process::Command::new(workspace_bin("dpuctl"))
        .arg("health")
        .env_clear()
        .output()
        .unwrap();
    fails(&no_identity, 1, "--ca");

    // Command lines clap refuses: exit 2, the reason on the first line.
    let usage = dpuctl(&env, Who::Operator, &["-o", "xml", "health"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).lines().next().unwrap().contains("xml"));
}
