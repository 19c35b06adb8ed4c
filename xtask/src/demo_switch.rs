//! The demo's two-VM overlay: vm1 and vm2 behind the representors pf0vf0/pf0vf1 share a VXLAN
//! bridge (VNI 100) that the switch carries over the uplink p0 to a Linux VXLAN device in the
//! fabric namespace, all configured through the agent's API with one manifest.

use anyhow::{Result, bail};
use dpu_lab::{Lab, Role};

pub const VM1_IP: &str = "192.0.2.1";
pub const VM2_IP: &str = "192.0.2.2";
/// The fabric's overlay address, on its Linux VXLAN device.
pub const FABRIC_OVERLAY_IP: &str = "192.0.2.3";
/// Our VTEP's underlay address on p0 (the switch answers ARP for it).
pub const VTEP_IP: &str = "198.51.100.10";
pub const VNI: &str = "100";
/// VM and overlay MTU: the underlay's 1500 minus the 50 bytes of VXLAN over IPv4.
const OVERLAY_MTU: &str = "1450";

/// Tools the overlay steps run in the lab's namespaces.
pub const APT: &[&str] = &["ethtool", "iputils-ping"];

/// The operator's switch manifest.
pub fn manifest() -> String {
    format!(
        r#"kind: Bridge
name: overlay
spec: {{vlan: 10, vni: {VNI}}}
---
kind: Port
name: pf0vf0
spec: {{mode: PORT_MODE_ACCESS, bridge: bridges/overlay}}
---
kind: Port
name: pf0vf1
spec: {{mode: PORT_MODE_ACCESS, bridge: bridges/overlay}}
---
kind: Port
name: p0
spec: {{mode: PORT_MODE_UPLINK}}
---
kind: Vtep
name: underlay
spec:
  uplink: ports/p0
  localIp: {VTEP_IP}
  prefixLen: 24
  remotes: [{{ip: {fabric}, vnis: [{VNI}]}}]
"#,
        fabric = dpu_lab::FABRIC_IP
    )
}

/// Addresses the VMs, turns off the segmentation offloads a VF's hardware would do (see
/// docs/ARCHITECTURE.md), and gives the fabric a Linux VXLAN VTEP towards ours.
pub fn prepare(lab: &Lab) -> Result<()> {
    for (role, ip) in [(Role::Vm1, VM1_IP), (Role::Vm2, VM2_IP)] {
        lab.run_in(role, ["ip", "addr", "add", &format!("{ip}/24"), "dev", "eth0"])?;
        lab.run_in(role, ["ip", "link", "set", "eth0", "mtu", OVERLAY_MTU])?;
        lab.run_in(role, ["ethtool", "-K", "eth0", "tso", "off", "gso", "off", "gro", "off"])?;
        println!("    [{role} ns] eth0 {ip}/24 mtu {OVERLAY_MTU}");
    }
    let fabric = dpu_lab::FABRIC_IP.to_string();
    let f = Role::Fabric;
    lab.run_in(
        f,
        [
            "ip", "link", "add", "vx100", "type", "vxlan", "id", VNI, "remote", VTEP_IP, "local",
            &fabric, "dstport", "4789", "dev", "eth0",
        ],
    )?;
    lab.run_in(f, ["ip", "addr", "add", &format!("{FABRIC_OVERLAY_IP}/24"), "dev", "vx100"])?;
    lab.run_in(f, ["ip", "link", "set", "vx100", "up"])?;
    lab.run_in(f, ["ethtool", "-K", "vx100", "tso", "off", "gso", "off"])?;
    println!(
        "    [fabric ns] vx100: VXLAN VNI {VNI} {fabric} -> {VTEP_IP}, overlay {FABRIC_OVERLAY_IP}/24"
    );
    Ok(())
}

/// Pings `to` from `from`: up to `tries` echoes with a 1 s deadline each.
pub fn ping(lab: &Lab, from: Role, to: &str, tries: u32) -> Result<()> {
    for _ in 0..tries {
        let out = lab.exec_in(from, ["ping", "-n", "-c", "1", "-W", "1", to])?;
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            let rtt = text.lines().find(|l| l.contains("time=")).unwrap_or_default();
            println!("    [{from} ns] ping {to}: {}", rtt.trim());
            return Ok(());
        }
    }
    bail!("{from} cannot reach {to} through the switch ({tries} pings unanswered)")
}
