//! What this crate's integration tests share: the guest kernel with its host tools, the target
//! pieces each starts from, and internal API objects.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use dpu_lab::guest::{self, Guest, Initramfs, Kernel, Marks};
use dpu_nvmf::target::{ListenerSpec, SubsystemSpec};
use dpu_nvmf::{Server, Target};
use dpu_proto::dpu::nvmf::v1 as pb;

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

/// [`guest_kernel`] with Debian's 6.12 kernel instead, which has NVMe in-band
/// authentication (CONFIG_NVME_HOST_AUTH); 6.1's Debian build does not.
pub fn guest_kernel_6_12() -> (PathBuf, Kernel) {
    guest::ensure_commands(guest::HOST_TOOLS).unwrap();
    guest::ensure_commands(&[("nvme", "nvme-cli")]).unwrap();
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nvmf-linux");
    let kernel = guest::debian_kernel_6_12(&cache).unwrap();
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
        host_secrets: Default::default(),
        cntlids: dpu_nvmf::target::ALL_CNTLIDS,
        max_io_queues: dpu_nvmf::target::DEFAULT_IO_QUEUES,
    })
    .unwrap();
}

/// Serves a listener with port ID `port_id` on a free loopback port (both digests
/// allowed); returns its address.
pub async fn loopback_listener(server: &Server, port_id: u16) -> SocketAddr {
    server.add_listener(loopback_spec(port_id, false)).await.unwrap()
}

/// [`loopback_listener`], discovery only.
pub async fn loopback_discovery_listener(server: &Server, port_id: u16) -> SocketAddr {
    server.add_listener(loopback_spec(port_id, true)).await.unwrap()
}

fn loopback_spec(port_id: u16, discovery_only: bool) -> ListenerSpec {
    ListenerSpec {
        port_id,
        addr: "127.0.0.1:0".parse().unwrap(),
        allow_hdgst: true,
        allow_ddgst: true,
        discovery_only,
    }
}

/// The initramfs `cache/initramfs-{name}.cpio` of a guest with nvme-cli and the NVMe/TCP
/// host modules, whose `/init` is `init(modules to load)`.
pub fn nvme_initramfs(
    cache: &Path,
    kernel: &Kernel,
    name: &str,
    init: impl FnOnce(&[String]) -> String,
) -> PathBuf {
    nvme_initramfs_with(cache, kernel, name, &[], init)
}

/// [`nvme_initramfs`] with more host commands: each `(tool, path in the guest)`.
pub fn nvme_initramfs_with(
    cache: &Path,
    kernel: &Kernel,
    name: &str,
    commands: &[(&str, &str)],
    init: impl FnOnce(&[String]) -> String,
) -> PathBuf {
    let mut tree = Initramfs::new(&cache.join(format!("initramfs-{name}-root"))).unwrap();
    tree.add_command("nvme", "/usr/sbin/nvme").unwrap();
    for (tool, dest) in commands {
        tree.add_command(tool, dest).unwrap();
    }
    tree.add_modules(kernel, &["virtio_pci", "virtio_net", "crc32c_generic", "nvme-tcp"]).unwrap();
    let script = init(tree.modules());
    tree.write_cpio(&script, &cache.join(format!("initramfs-{name}.cpio"))).unwrap()
}

/// The guest's next mark, recorded in `marks`; `None` once the guest printed its last one
/// (`done` or a failure) or stopped. Blocks this worker only (the target's tasks keep
/// running on the other); panics past `deadline`.
pub fn next_mark(
    vm: &mut Guest,
    marks: &mut Marks,
    deadline: std::time::Instant,
) -> Option<String> {
    if marks.0.last().is_some_and(|(m, _)| guest::is_last_mark(m)) {
        return None;
    }
    let m =
        tokio::task::block_in_place(|| vm.next_mark(deadline)).unwrap_or_else(|e| panic!("{e}"))?;
    marks.push(m.clone(), vm.elapsed());
    Some(m)
}

/// The start of an NVMe guest's `/init`: [`guest::init_prelude`], nvme-cli's
/// configuration directory, [`RECORD_AENS`] and [`CTRL_OF`].
pub fn nvme_init_prelude(modules: &[String]) -> String {
    format!("{}\nmkdir -p /etc/nvme\n{RECORD_AENS}\n{CTRL_OF}", guest::init_prelude(modules))
}

/// Guest shell lines connecting host `hostnqn` to `subnqn` through the host's `ports`, path
/// A then path B, each marking `{mark}connect-a rc=N` / `{mark}connect-b rc=N`.
pub fn connect_two_paths(subnqn: &str, hostnqn: &str, ports: [u16; 2], mark: &str) -> String {
    let gateway = guest::GUEST_GATEWAY;
    let lines: Vec<String> = ["a", "b"]
        .into_iter()
        .zip(ports)
        .map(|(path, port)| {
            format!(
                "nvme connect -t tcp -a {gateway} -s {port} -n {subnqn} --hostnqn={hostnqn}\n\
                 mark {mark}connect-{path} rc=$?"
            )
        })
        .collect();
    lines.join("\n")
}

/// Guest shell function `ctrl_of PORT`: the controller (`nvmeN`) connected to TCP port PORT.
pub const CTRL_OF: &str = r#"ctrl_of() { for c in /sys/class/nvme/nvme*; do grep -q "trsvcid=$1" $c/address && echo ${c##*/}; done; }"#;

/// Guest shell lines that append each NVMe asynchronous event notice the kernel reports
/// (its `NVME_AEN` uevents, which udev rules act on) to `/tmp/aen` as "DEVNAME NVME_AEN",
/// listening to the kernel's uevents as udev does (busybox `uevent`, netlink).
pub const RECORD_AENS: &str = r#"cat > /bin/onevent <<'EOS'
#!/bin/sh
[ -n "$NVME_AEN" ] && echo "$DEVNAME $NVME_AEN" >> /tmp/aen
exit 0
EOS
chmod +x /bin/onevent
touch /tmp/aen
uevent /bin/onevent &"#;

/// A child process, killed (and reaped) on drop so a failing test leaves none behind.
pub struct Process(pub std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The service binary (`dpu-nvmf --config CONFIG --state-dir STATE`), killed on drop.
pub struct Service {
    child: Process,
    config: PathBuf,
    state: PathBuf,
}

impl Service {
    /// Writes `config` to `dir/nvmf.toml` and starts the service on it, its state
    /// directory `dir/state`.
    pub fn start(dir: &Path, config: &str) -> Self {
        let path = dir.join("nvmf.toml");
        std::fs::write(&path, config).unwrap();
        let state = dir.join("state");
        let child = Self::spawn(&path, &state);
        Self { child, config: path, state }
    }

    fn spawn(config: &Path, state: &Path) -> Process {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"))
            .arg("--config")
            .arg(config)
            .arg("--state-dir")
            .arg(state)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Process(child)
    }

    /// SIGKILL, as a crash or a loss of power, and a new process on the same files.
    pub fn kill_and_restart(&mut self) {
        self.child.0.kill().unwrap();
        self.child.0.wait().unwrap();
        self.child = Self::spawn(&self.config, &self.state);
    }
}

/// A free TCP port on loopback (for a service process to listen on).
pub fn free_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What the test reads from one fio terse (version 3) line: fields are `;`-separated,
/// 1-based field 5 is the error count, 6/7/8 read KiB, KiB/s, IOPS and 47/48/49 the same for
/// writes.
#[derive(Debug)]
pub struct FioResult {
    pub errors: u64,
    pub read_kib: u64,
    pub read_iops: u64,
    pub write_kib: u64,
    pub write_iops: u64,
}

pub fn fio_terse(line: &str) -> Option<FioResult> {
    let f: Vec<&str> = line.split(';').collect();
    if f.first() != Some(&"3") {
        return None;
    }
    let num = |i: usize| f.get(i - 1)?.parse::<f64>().ok().map(|v| v as u64);
    Some(FioResult {
        errors: num(5)?,
        read_kib: num(6)?,
        read_iops: num(8)?,
        write_kib: num(47)?,
        write_iops: num(49)?,
    })
}

/// The fio result the guest printed after `mark NAME-terse`.
pub fn fio_mark(marks: &Marks, name: &str) -> FioResult {
    let line = marks.value(&format!("{name}-terse "));
    line.and_then(fio_terse).unwrap_or_else(|| panic!("no fio terse line for {name}: {line:?}"))
}

/// The internal API's TCP listener `name` on 127.0.0.1:`port`, at generation 1, with the
/// service's defaults for everything else.
pub fn loopback_listener_pb(name: &str, port: u16) -> pb::Listener {
    pb::Listener {
        name: name.into(),
        generation: 1,
        spec: Some(pb::ListenerSpec {
            trtype: pb::TransportType::Tcp as i32,
            address: "127.0.0.1".into(),
            port: u32::from(port),
            ..Default::default()
        }),
        ..Default::default()
    }
}
