//! What the Linux guest tests share: the guest kernel with its host tools, and the target
//! pieces each starts from.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use dpu_lab::guest::{self, Kernel};
use dpu_nvmf::target::{ListenerSpec, SubsystemSpec};
use dpu_nvmf::{Server, Target};

/// Installs the tools a guest is built from (and `extra`, `(command, package)` pairs) when
/// missing, and returns the cache directory every guest test of this crate shares with the
/// demo, and Debian's kernel from it (downloaded once).
pub fn guest_kernel(extra: &[(&str, &str)]) -> (PathBuf, Kernel) {
    guest::ensure_commands(guest::HOST_TOOLS).unwrap();
    guest::ensure_commands(&[("nvme", "nvme-cli")]).unwrap();
    guest::ensure_commands(extra).unwrap();
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nvmf-linux");
    let kernel = guest::debian_kernel(&cache).unwrap();
    (cache, kernel)
}

/// Adds subsystem `nqn` that the `hosts` may use.
pub fn add_subsystem(t: &Target, nqn: &str, serial: &str, model: &str, hosts: &[&str]) {
    t.add_subsystem(SubsystemSpec {
        nqn: nqn.into(),
        serial: serial.into(),
        model: model.into(),
        allow_any_host: false,
        hosts: hosts.iter().map(|h| (*h).to_owned()).collect::<BTreeSet<_>>(),
    })
    .unwrap();
}

/// Serves a listener with port ID `port_id` on a free loopback port (both digests
/// allowed); returns its address.
pub async fn loopback_listener(server: &Server, port_id: u16) -> SocketAddr {
    let spec = ListenerSpec {
        port_id,
        addr: "127.0.0.1:0".parse().unwrap(),
        allow_hdgst: true,
        allow_ddgst: true,
    };
    server.add_listener(spec).await.unwrap()
}
