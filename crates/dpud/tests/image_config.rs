//! The configuration shipped in images/ is one the agent accepts, with the host listener capped
//! to the host role, no other listener reachable from the host, and room for every
//! listener's connections in dpud.service's open files limit.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

use dpu_pki::Role;

#[test]
fn shipped_config_parses_and_caps_the_host_listener() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../images/rootfs/etc/dpud/dpud.toml");
    let config = dpud::Config::load(&path).unwrap();
    let host = config.listeners.iter().find(|l| l.name == "host").unwrap();
    assert_eq!(host.address.to_string(), "192.168.100.2:50051");
    assert_eq!(host.max_role, Some(Role::Host));
    let names: Vec<&str> = config.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["system", "nvmf", "switch"]);
    for s in &config.services {
        let unit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../images/rootfs/lib/systemd/system/dpu-{}.service", s.name));
        let text = std::fs::read_to_string(&unit).unwrap();
        assert!(text.contains(&format!("--socket {}", s.socket.display())), "{}", unit.display());
    }
    assert!(
        config.services.iter().all(|s| s.command.is_none()),
        "on a card systemd starts services"
    );

    // The host reaches the card over tmfifo (192.168.100.0/30) only: a listener it may dial
    // must cap every client at the host role, so an operator listener on every address is
    // bound to the management interface.
    for l in config.listeners.iter().filter(|l| l.max_role != Some(Role::Host)) {
        let ip = l.address.ip();
        let tmfifo = matches!(ip, std::net::IpAddr::V4(v4) if v4.octets()[..3] == [192, 168, 100]);
        assert!(
            l.interface.is_some() || !(ip.is_unspecified() || tmfifo),
            "listener {:?} is reachable from the host without the host cap",
            l.name
        );
    }
    let unit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../images/rootfs/lib/systemd/system/dpud.service");
    let text = std::fs::read_to_string(unit).unwrap();
    let files: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("LimitNOFILE="))
        .expect("dpud.service sets LimitNOFILE")
        .parse()
        .unwrap();
    let wanted: usize = config.listeners.iter().map(|l| l.max_connections).sum::<usize>() + 256;
    assert!(files >= wanted, "LimitNOFILE {files} < {wanted}");
}

/// Every unit restarts its process whenever it exits, for good: systemd's default start
/// limit (5 starts within 10 s) would otherwise leave a process that failed five times in
/// a row (RestartSec=1), e.g. the agent started before its listener's address or interface
/// exists, stopped until someone runs `systemctl reset-failed`. The limit lives in [Unit].
#[test]
fn units_restart_without_a_start_limit() {
    let mut units: Vec<_> =
        std::fs::read_dir(dpu_lab::unit::dir()).unwrap().map(|e| e.unwrap().path()).collect();
    units.sort();
    assert_eq!(units.len(), 4, "{units:?}");
    for path in units {
        let unit = std::fs::read_to_string(&path).unwrap();
        let name = path.display();
        assert_eq!(
            dpu_lab::unit::setting(&unit, "[Service]", "Restart").as_deref(),
            Some("always"),
            "{name}"
        );
        assert_eq!(
            dpu_lab::unit::setting(&unit, "[Unit]", "StartLimitIntervalSec").as_deref(),
            Some("0"),
            "{name}: a service that keeps failing must keep being restarted"
        );
    }
}
