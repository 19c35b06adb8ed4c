//! The switch's configuration model: what the operator (through the agent) or a config file
//! says the switch should be.
//!
//! It is plain data with serde support (TOML/JSON files, later the internal API).
//! [`SwitchConfig::validate`] checks it as a whole; [`crate::Switch::apply`] only ever installs a
//! validated configuration, so an invalid one changes nothing.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpu_runtime::ifname::is_interface_name;
use dpu_wire::MacAddr;
use dpu_wire::addr::{is_martian_v4, is_martian_v6, is_single_host_v4};
use serde::{Deserialize, Serialize};

/// Default MTU of a port (the largest L3 payload of a frame, as Linux counts it).
pub const DEFAULT_MTU: u16 = 1500;
/// Default MAC ageing time, as in IEEE 802.1Q §8.8.3 (300 s recommended).
pub const DEFAULT_AGEING_SECS: u32 = 300;
/// Default per-bridge MAC table limit.
pub const DEFAULT_MAC_LIMIT: u32 = 4096;
/// Default prefix length of the VTEP's underlay subnet.
pub const DEFAULT_PREFIX_LEN: u8 = 24;
/// Largest VLAN id usable for a bridge (4095 is reserved, IEEE 802.1Q Table 9-2).
pub const MAX_VLAN: u16 = 4094;
/// Largest VNI (24 bits, RFC 7348 §5).
pub const MAX_VNI: u32 = 0x00ff_ffff;
/// Most ports, bridges, routing instances and statically configured remote VTEPs (those of
/// the VTEP's `remotes` and of static MACs together) a configuration holds. The switch
/// numbers each in 16 bits (remote VTEPs together with the learned ones,
/// `MAX_LEARNED_VTEPS`), so within these bounds no two share a number
/// (past them, one tenant's frames would go to another's bridge or VTEP); they also keep
/// a configuration's validation and application bounded.
pub const MAX_PORTS: usize = 4096;
/// See [`MAX_PORTS`].
pub const MAX_BRIDGES: usize = 8192;
/// See [`MAX_PORTS`].
pub const MAX_VRFS: usize = 4096;
/// See [`MAX_PORTS`].
pub const MAX_REMOTE_VTEPS: usize = 4096;
/// Most static routes of all VRFs, and most static MACs, a configuration holds: the whole
/// configuration travels in one message of at most `api::MESSAGE_LIMIT` (16 MiB), so a
/// desired state the agent acknowledged always reaches the switch (both at their bounds
/// take about 2 MiB).
pub const MAX_ROUTES: usize = 16384;
/// See [`MAX_ROUTES`].
pub const MAX_STATIC_MACS: usize = 16384;
/// Most VLANs of all trunk ports together (each trunk's `vlans` and native VLAN), and most
/// VNIs of all remote VTEPs' flood lists together: see [`MAX_ROUTES`] (both at their bounds
/// take under 2 MiB).
pub const MAX_TRUNK_VLANS: usize = 262_144;
/// See [`MAX_TRUNK_VLANS`].
pub const MAX_FLOOD_VNIS: usize = 262_144;
/// Largest flow cache (entries, 64 times the default: room for a million flows at the
/// cache's load factor, as the bench's scaling run has): tenants' traffic fills it, each
/// entry a few hundred bytes (about 1 GiB at this bound), so a bigger one would hand them
/// the card's memory.
pub const MAX_FLOW_CACHE: u32 = 1 << 22;
/// Largest `mac_limit` of a bridge (256 times the default): the addresses a tenant's frames
/// bring in fill it, so, as for [`MAX_FLOW_CACHE`], a bigger one would hand them memory.
pub const MAX_MAC_LIMIT: u32 = 1 << 20;

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchConfig {
    /// Ports, each bound to one Linux interface (a representor or an uplink).
    #[serde(default)]
    pub ports: Vec<PortConfig>,
    /// Logical bridges.
    #[serde(default)]
    pub bridges: Vec<BridgeConfig>,
    /// The overlay endpoint on the uplink, if the switch terminates tunnels.
    #[serde(default)]
    pub vtep: Option<VtepConfig>,
    /// Static MAC entries (never aged, never moved by learning).
    #[serde(default)]
    pub static_macs: Vec<StaticMacConfig>,
    /// Flow cache size (entries); 0 means the default.
    #[serde(default)]
    pub flow_cache_size: u32,
    /// Routing instances (IPv4); bridges join one through their SVI.
    #[serde(default)]
    pub vrfs: Vec<VrfConfig>,
}

/// A routing instance: its static routes (connected routes come from the SVIs in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VrfConfig {
    /// Name.
    pub name: String,
    /// Static routes.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

/// A static route (IPv4 or IPv6; prefix and next hop of the same family).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Destination prefix, `a.b.c.d/len` or `2001:db8::/32`.
    pub prefix: String,
    /// Next hop; it must be inside the subnet of an SVI of the same VRF.
    pub next_hop: IpAddr,
}

/// The switch's routed interface in a bridge (its gateway address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SviConfig {
    /// The VRF it belongs to.
    pub vrf: String,
    /// Gateway address and subnet, `a.b.c.d/len`.
    pub address: String,
    /// Gateway MAC, `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    /// IPv6 gateway address and prefix, `2001:db8:a::1/64`.
    #[serde(default)]
    pub address6: Option<String>,
}

/// A prefix length of at most `max`: one to three decimal digits, as `ip` writes it
/// (`str::parse` also takes a '+' and any number of leading zeros, so a stored prefix
/// string, and the configuration holding it, could grow without bound).
fn parse_prefix_len(len: &str, max: u8) -> Option<u8> {
    let digits = (1..=3).contains(&len.len()) && len.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| len.parse().ok()).flatten().filter(|l| *l <= max)
}

/// Parses `a.b.c.d/len` into the address and prefix length.
pub fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (ip, len) = s.split_once('/')?;
    let len = parse_prefix_len(len, 32)?;
    Some((ip.parse().ok()?, len))
}

/// Parses `2001:db8::1/64` into the address and prefix length.
pub fn parse_cidr6(s: &str) -> Option<(Ipv6Addr, u8)> {
    let (ip, len) = s.split_once('/')?;
    let len = parse_prefix_len(len, 128)?;
    Some((ip.parse().ok()?, len))
}

/// Whether `ip` can be a remote VTEP of the VTEP at `local`: a single host, not `local`
/// (decapsulation drops any other outer source as a martian).
pub fn is_remote_unicast(ip: Ipv4Addr, local: Ipv4Addr) -> bool {
    ip != local && is_single_host_v4(ip)
}

/// An SVI's `a.b.c.d/len`, or why it cannot be one. The SVI is the gateway of hosts it
/// routes for, so its address is not one routing drops as a martian ([`is_martian_v4`])
/// and not its subnet's network or broadcast address (RFC 1122 §3.2.1.3); len 1..=30
/// leaves room for hosts.
pub fn parse_svi_address(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let Some((ip, len)) = parse_cidr(s).filter(|(_, len)| (1..=30).contains(len)) else {
        return Err(format!("{s:?} is not a.b.c.d/len with len 1..=30"));
    };
    if is_martian_v4(ip) {
        return Err(format!("{ip} is not a routable unicast address"));
    }
    let (bits, m) = (u32::from(ip), mask(len));
    if bits == bits & m || bits == bits | !m {
        let net = Ipv4Addr::from(bits & m);
        return Err(format!("{ip} is the network or broadcast address of {net}/{len}"));
    }
    Ok((ip, len))
}

/// An SVI's IPv6 `address/len` (len 1..=127), or why it cannot be one: not an address
/// routing drops as a martian ([`is_martian_v6`]: unspecified, loopback, multicast,
/// link-local or IPv4-mapped), so something can be routed for the subnet.
pub fn parse_svi_address6(s: &str) -> Result<(Ipv6Addr, u8), String> {
    let Some((ip, len)) = parse_cidr6(s).filter(|(_, len)| (1..=127).contains(len)) else {
        return Err(format!("{s:?} is not an IPv6 address/len with len 1..=127"));
    };
    if is_martian_v6(ip) {
        return Err(format!("{ip} is not a routable unicast address"));
    }
    Ok((ip, len))
}

/// The IPv6 network mask of a prefix length.
pub fn mask6(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0)
}

/// The network mask of a prefix length.
pub fn mask(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0)
}

/// The directed broadcast address of the subnet `ip/len` (all host bits set, RFC 1812
/// §4.2.3.1), which no host has; none on a /31 (RFC 3021) or /32.
pub fn subnet_broadcast(ip: Ipv4Addr, len: u8) -> Option<Ipv4Addr> {
    (len <= 30).then(|| Ipv4Addr::from(u32::from(ip) | !mask(len)))
}

/// How a port treats VLAN tags (IEEE 802.1Q port types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortMode {
    /// Untagged member of one VLAN; tagged frames are dropped.
    Access {
        /// The port's VLAN.
        vlan: u16,
    },
    /// Carries several VLANs tagged, optionally one untagged (the native VLAN).
    Trunk {
        /// Allowed VLANs.
        vlans: Vec<u16>,
        /// Untagged frames belong to this VLAN; none: untagged frames are dropped.
        native_vlan: Option<u16>,
    },
    /// The underlay port that carries the overlay (the VTEP's interface).
    Uplink,
}

/// One port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawPort", into = "RawPort")]
pub struct PortConfig {
    /// Port name, also the Linux interface it is bound to.
    pub name: String,
    /// VLAN mode.
    pub mode: PortMode,
    /// Largest L3 payload the port sends or accepts (frame minus Ethernet and VLAN header).
    pub mtu: u16,
    /// Administratively up; a down port neither receives nor sends.
    pub admin_up: bool,
}

impl PortConfig {
    /// The VLANs (so the bridges) the port is a member of: an access port's, a trunk's
    /// tagged ones and its native one; an uplink is in none.
    pub fn vlans(&self) -> impl Iterator<Item = u16> + '_ {
        let (tagged, untagged): (&[u16], Option<u16>) = match &self.mode {
            PortMode::Access { vlan } => (&[], Some(*vlan)),
            PortMode::Trunk { vlans, native_vlan } => (vlans, *native_vlan),
            PortMode::Uplink => (&[], None),
        };
        tagged.iter().copied().chain(untagged)
    }
}

/// The flat file form of a port (`mode = "access"`, `vlan = 10`, ...): serde cannot combine
/// an internally tagged, flattened enum with `deny_unknown_fields`, so the check is here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPort {
    name: String,
    mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vlan: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vlans: Option<Vec<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    native_vlan: Option<u16>,
    #[serde(default = "default_mtu")]
    mtu: u16,
    #[serde(default = "default_true")]
    admin_up: bool,
}

impl TryFrom<RawPort> for PortConfig {
    type Error = String;

    fn try_from(r: RawPort) -> Result<Self, String> {
        let name = r.name;
        let mode = match (r.mode.as_str(), r.vlan, r.vlans, r.native_vlan) {
            ("access", Some(vlan), None, None) => PortMode::Access { vlan },
            ("trunk", None, Some(vlans), native_vlan) => PortMode::Trunk { vlans, native_vlan },
            ("uplink", None, None, None) => PortMode::Uplink,
            ("access", ..) => return Err(format!("port {name:?}: access needs `vlan` only")),
            ("trunk", ..) => {
                return Err(format!("port {name:?}: trunk needs `vlans` (and `native_vlan`)"));
            }
            ("uplink", ..) => return Err(format!("port {name:?}: uplink takes no VLAN fields")),
            (m, ..) => {
                return Err(format!("port {name:?}: mode {m:?} is not access, trunk or uplink"));
            }
        };
        Ok(PortConfig { name, mode, mtu: r.mtu, admin_up: r.admin_up })
    }
}

impl From<PortConfig> for RawPort {
    fn from(p: PortConfig) -> Self {
        let (mode, vlan, vlans, native_vlan) = match p.mode {
            PortMode::Access { vlan } => ("access", Some(vlan), None, None),
            PortMode::Trunk { vlans, native_vlan } => ("trunk", None, Some(vlans), native_vlan),
            PortMode::Uplink => ("uplink", None, None, None),
        };
        RawPort {
            name: p.name,
            mode: mode.into(),
            vlan,
            vlans,
            native_vlan,
            mtu: p.mtu,
            admin_up: p.admin_up,
        }
    }
}

fn default_mtu() -> u16 {
    DEFAULT_MTU
}
fn default_true() -> bool {
    true
}
fn default_ageing() -> u32 {
    DEFAULT_AGEING_SECS
}
fn default_mac_limit() -> u32 {
    DEFAULT_MAC_LIMIT
}

/// A logical bridge (one broadcast domain), keyed by its VLAN and/or VNI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// Name.
    pub name: String,
    /// The VLAN that access and trunk ports map into this bridge.
    #[serde(default)]
    pub vlan: Option<u16>,
    /// The overlay VNI of this bridge.
    #[serde(default)]
    pub vni: Option<u32>,
    /// MAC ageing time in seconds.
    #[serde(default = "default_ageing")]
    pub ageing_secs: u32,
    /// Largest number of learned MACs. When it is reached, a new address takes the place of
    /// the oldest of the port or VTEP holding the most (if that holds at least two more
    /// than the learner); otherwise it is not learned (its frames are still flooded).
    #[serde(default = "default_mac_limit")]
    pub mac_limit: u32,
    /// The gateway (SVI) of this bridge, which routes between bridges of its VRF.
    #[serde(default)]
    pub svi: Option<SviConfig>,
}

/// The local tunnel endpoint (IPv4 underlay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VtepConfig {
    /// The uplink port (mode `uplink`).
    pub uplink: String,
    /// Our underlay address; the switch answers ARP for it.
    pub local_ip: Ipv4Addr,
    /// Prefix length of the underlay subnet (remote VTEPs inside it are on-link).
    #[serde(default = "default_prefix")]
    pub prefix_len: u8,
    /// Underlay gateway for remote VTEPs outside the subnet.
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
    /// Our underlay MAC, `aa:bb:cc:dd:ee:ff`; the binary fills in the uplink's own address.
    #[serde(default)]
    pub local_mac: Option<String>,
    /// Compute outer UDP checksums (RFC 7348 §5 lets them be zero over IPv4).
    #[serde(default)]
    pub udp_checksum: bool,
    /// Outer TTL.
    #[serde(default = "default_ttl")]
    pub ttl: u8,
    /// Remote VTEPs configured statically (flood lists).
    #[serde(default)]
    pub remotes: Vec<RemoteVtepConfig>,
    /// Accept traffic from VTEPs not configured here (learned VTEPs get unicast, not floods).
    /// Turned off, the VTEPs learned before are forgotten with the MACs behind them.
    #[serde(default = "default_true")]
    pub learn_remotes: bool,
}

fn default_prefix() -> u8 {
    DEFAULT_PREFIX_LEN
}
fn default_ttl() -> u8 {
    64
}

/// A remote VTEP and the VNIs whose BUM traffic it receives (head-end replication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteVtepConfig {
    /// Its underlay address.
    pub ip: Ipv4Addr,
    /// VNIs whose flood list contains it.
    #[serde(default)]
    pub vnis: Vec<u32>,
    /// The encapsulation it speaks (default: VXLAN).
    #[serde(default)]
    pub encap: Encap,
}

/// Overlay encapsulation. Both are always accepted on receipt; this chooses what is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encap {
    /// VXLAN, UDP port 4789 (RFC 7348).
    #[default]
    Vxlan,
    /// Geneve, UDP port 6081 (RFC 8926), without options.
    Geneve,
}

impl Encap {
    /// `vxlan` or `geneve`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encap::Vxlan => "vxlan",
            Encap::Geneve => "geneve",
        }
    }
}

/// A static MAC entry: in `bridge`, `mac` lives behind `port` or behind remote VTEP `vtep`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticMacConfig {
    /// Bridge name.
    pub bridge: String,
    /// The address, `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    /// Port name (exactly one of `port` and `vtep`).
    #[serde(default)]
    pub port: Option<String>,
    /// Remote VTEP address.
    #[serde(default)]
    pub vtep: Option<Ipv4Addr>,
}

/// Why a configuration was refused. Messages name the offending object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Two objects of one kind share a name or key.
    #[error("duplicate {kind} {name:?}")]
    Duplicate {
        /// Kind of object.
        kind: &'static str,
        /// The duplicated name or key.
        name: String,
    },
    /// A field holds a value outside its range.
    #[error("{field}: {reason}")]
    Invalid {
        /// Which field (path-like: `ports[pf0vf0].mtu`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A reference to an object that does not exist.
    #[error("{field}: no {kind} named {name:?}")]
    Unknown {
        /// Referring field.
        field: String,
        /// Kind of the missing object.
        kind: &'static str,
        /// The name referred to.
        name: String,
    },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field: field.into(), reason: reason.into() }
}

/// Parses `aa:bb:cc:dd:ee:ff` (also `-` separated).
pub fn parse_mac(s: &str) -> Option<MacAddr> {
    let mut out = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for o in &mut out {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(MacAddr(out))
}

/// Longest bridge or VRF name, as the agent's resource ids.
pub const MAX_NAME: usize = 63;

/// A bridge's or VRF's name: 1 to [`MAX_NAME`] printable ASCII characters (it shows in
/// field paths, logs and status tables).
fn check_name(field: &str, name: &str) -> Result<(), ConfigError> {
    if !(1..=MAX_NAME).contains(&name.len()) || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            format!("{field}.name"),
            format!("{name:?} is not 1 to {MAX_NAME} printable ASCII characters"),
        ));
    }
    Ok(())
}

fn check_vlan(field: String, vlan: u16) -> Result<(), ConfigError> {
    if vlan == 0 || vlan > MAX_VLAN {
        return Err(invalid(field, format!("VLAN {vlan} outside 1..={MAX_VLAN}")));
    }
    Ok(())
}

impl SwitchConfig {
    /// Checks the whole configuration: names unique, ranges, references.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let remotes = self.vtep.as_ref().map_or(0, |v| v.remotes.len());
        let routes = self.vrfs.iter().map(|v| v.routes.len()).sum();
        let trunk_vlans = self
            .ports
            .iter()
            .filter(|p| matches!(p.mode, PortMode::Trunk { .. }))
            .map(|p| p.vlans().count())
            .sum();
        let flood_vnis = self.vtep.iter().flat_map(|v| &v.remotes).map(|r| r.vnis.len()).sum();
        for (field, count, max) in [
            ("ports", self.ports.len(), MAX_PORTS),
            ("bridges", self.bridges.len(), MAX_BRIDGES),
            ("vrfs", self.vrfs.len(), MAX_VRFS),
            ("vtep.remotes", remotes, MAX_REMOTE_VTEPS),
            ("vrfs[].routes", routes, MAX_ROUTES),
            ("static_macs", self.static_macs.len(), MAX_STATIC_MACS),
            ("ports[].vlans", trunk_vlans, MAX_TRUNK_VLANS),
            ("vtep.remotes[].vnis", flood_vnis, MAX_FLOOD_VNIS),
        ] {
            if count > max {
                return Err(invalid(field, format!("{count} entries, at most {max}")));
            }
        }
        if self.flow_cache_size > MAX_FLOW_CACHE {
            return Err(invalid(
                "flow_cache_size",
                format!("{} entries, at most {MAX_FLOW_CACHE}", self.flow_cache_size),
            ));
        }
        let mut names = HashSet::new();
        let mut uplinks = HashSet::new();
        for p in &self.ports {
            if !is_interface_name(&p.name) {
                return Err(invalid(
                    format!("ports[{}].name", p.name),
                    "must be a Linux interface name (1-15 printable characters, no '/' or ':', \
                     not . or ..)",
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err(ConfigError::Duplicate { kind: "port", name: p.name.clone() });
            }
            if !(68..=9216).contains(&p.mtu) {
                return Err(invalid(format!("ports[{}].mtu", p.name), "outside 68..=9216"));
            }
            match &p.mode {
                PortMode::Access { vlan } => check_vlan(format!("ports[{}].vlan", p.name), *vlan)?,
                PortMode::Trunk { vlans, native_vlan } => {
                    for v in vlans.iter().chain(native_vlan) {
                        check_vlan(format!("ports[{}].vlans", p.name), *v)?;
                    }
                }
                PortMode::Uplink => {
                    uplinks.insert(p.name.as_str());
                }
            }
        }
        let mut bridge_names = HashSet::new();
        let mut vlans = HashSet::new();
        let mut vnis = HashSet::new();
        for b in &self.bridges {
            check_name(&format!("bridges[{}]", b.name), &b.name)?;
            if !bridge_names.insert(b.name.as_str()) {
                return Err(ConfigError::Duplicate { kind: "bridge", name: b.name.clone() });
            }
            if b.vlan.is_none() && b.vni.is_none() {
                return Err(invalid(format!("bridges[{}]", b.name), "needs a vlan or a vni"));
            }
            if let Some(v) = b.vlan {
                check_vlan(format!("bridges[{}].vlan", b.name), v)?;
                if !vlans.insert(v) {
                    return Err(ConfigError::Duplicate {
                        kind: "bridge vlan",
                        name: v.to_string(),
                    });
                }
            }
            if let Some(v) = b.vni {
                if v > MAX_VNI {
                    return Err(invalid(format!("bridges[{}].vni", b.name), "above 2^24-1"));
                }
                if !vnis.insert(v) {
                    return Err(ConfigError::Duplicate { kind: "bridge vni", name: v.to_string() });
                }
            }
            if b.ageing_secs == 0 || b.ageing_secs > 1_000_000 {
                return Err(invalid(format!("bridges[{}].ageing_secs", b.name), "outside 1..=1e6"));
            }
            if b.mac_limit == 0 || b.mac_limit > MAX_MAC_LIMIT {
                let reason = format!("{} outside 1..={MAX_MAC_LIMIT}", b.mac_limit);
                return Err(invalid(format!("bridges[{}].mac_limit", b.name), reason));
            }
        }
        let mut vrf_names = HashSet::new();
        for v in &self.vrfs {
            check_name(&format!("vrfs[{}]", v.name), &v.name)?;
            if !vrf_names.insert(v.name.as_str()) {
                return Err(ConfigError::Duplicate { kind: "vrf", name: v.name.clone() });
            }
        }
        let mut subnets: Vec<Link<'_, u32>> = Vec::new();
        let mut subnets6: Vec<Link<'_, u128>> = Vec::new();
        let mut svi_macs = HashSet::new();
        for b in &self.bridges {
            let Some(svi) = &b.svi else { continue };
            let field = format!("bridges[{}].svi", b.name);
            if !vrf_names.contains(svi.vrf.as_str()) {
                return Err(ConfigError::Unknown { field, kind: "vrf", name: svi.vrf.clone() });
            }
            let (ip, len) = parse_svi_address(&svi.address)
                .map_err(|e| invalid(field.clone() + ".address", e))?;
            let Some(mac) = parse_mac(&svi.mac).filter(|m| m.is_unicast() && *m != MacAddr::ZERO)
            else {
                return Err(invalid(field + ".mac", "must be a unicast MAC aa:bb:cc:dd:ee:ff"));
            };
            svi_macs.insert(mac);
            let net = u32::from(ip) & mask(len);
            if subnets.iter().any(|s| {
                s.vrf == svi.vrf && (net & mask(s.len.min(len))) == (s.net & mask(s.len.min(len)))
            }) {
                return Err(invalid(field + ".address", "overlaps another SVI of its VRF"));
            }
            let bridge = b.name.as_str();
            subnets.push(Link { vrf: &svi.vrf, bridge, net, len, own: u32::from(ip) });
            if let Some(a6) = &svi.address6 {
                let (ip6, len6) =
                    parse_svi_address6(a6).map_err(|e| invalid(field.clone() + ".address6", e))?;
                let net6 = u128::from(ip6) & mask6(len6);
                if subnets6.iter().any(|s| {
                    let m = mask6(s.len.min(len6));
                    s.vrf == svi.vrf && (net6 & m) == (s.net & m)
                }) {
                    return Err(invalid(field + ".address6", "overlaps another SVI of its VRF"));
                }
                let own = u128::from(ip6);
                subnets6.push(Link { vrf: &svi.vrf, bridge, net: net6, len: len6, own });
            }
        }
        self.check_routes(&subnets, &subnets6)?;
        if let Some(v) = &self.vtep {
            if !uplinks.contains(v.uplink.as_str()) {
                return Err(ConfigError::Unknown {
                    field: "vtep.uplink".into(),
                    kind: "uplink port",
                    name: v.uplink.clone(),
                });
            }
            if v.prefix_len == 0 || v.prefix_len > 32 {
                return Err(invalid("vtep.prefix_len", "outside 1..=32"));
            }
            if v.ttl == 0 {
                return Err(invalid("vtep.ttl", "0: every router on the way would drop it"));
            }
            if !is_single_host_v4(v.local_ip) {
                return Err(invalid("vtep.local_ip", "must be a unicast address"));
            }
            if let Some(g) = v.gateway {
                check_vtep_gateway(v.local_ip, v.prefix_len, g)
                    .map_err(|e| invalid("vtep.gateway", e))?;
            }
            if let Some(m) = &v.local_mac
                && parse_mac(m).is_none_or(|m| !m.is_unicast() || m == MacAddr::ZERO)
            {
                return Err(invalid("vtep.local_mac", "must be a unicast MAC aa:bb:cc:dd:ee:ff"));
            }
            if v.ttl == 0 {
                return Err(invalid("vtep.ttl", "must be at least 1"));
            }
            let mut seen = HashSet::new();
            for r in &v.remotes {
                if !seen.insert(r.ip) {
                    return Err(ConfigError::Duplicate {
                        kind: "remote vtep",
                        name: r.ip.to_string(),
                    });
                }
                if !is_remote_unicast(r.ip, v.local_ip) {
                    return Err(invalid(
                        format!("vtep.remotes[{}]", r.ip),
                        "not a remote unicast address",
                    ));
                }
                for vni in &r.vnis {
                    if !vnis.contains(vni) {
                        return Err(ConfigError::Unknown {
                            field: format!("vtep.remotes[{}].vnis", r.ip),
                            kind: "bridge with vni",
                            name: vni.to_string(),
                        });
                    }
                }
            }
        }
        self.check_static_macs()?;
        Ok(())
    }

    /// Static routes: one per prefix in a VRF (the switch would keep only one of two),
    /// each checked by [`check_route`] against the VRF's SVI subnets.
    fn check_routes(
        &self,
        subnets: &[Link<'_, u32>],
        subnets6: &[Link<'_, u128>],
    ) -> Result<(), ConfigError> {
        let by_vrf = group_by_vrf(subnets);
        let by_vrf6 = group_by_vrf(subnets6);
        for v in &self.vrfs {
            let links = by_vrf.get(v.name.as_str()).map_or(&[][..], Vec::as_slice);
            let links6 = by_vrf6.get(v.name.as_str()).map_or(&[][..], Vec::as_slice);
            let mut prefixes = HashSet::new();
            for r in &v.routes {
                let field = format!("vrfs[{}].routes[{}]", v.name, r.prefix);
                let prefix = match r.next_hop {
                    IpAddr::V4(nh) => check_route(&field, &r.prefix, nh, links)?,
                    IpAddr::V6(nh) => check_route(&field, &r.prefix, nh, links6)?,
                };
                if !prefixes.insert(prefix) {
                    return Err(invalid(
                        field + ".prefix",
                        format!("another route of VRF {} has this prefix", v.name),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Static MACs: each in an existing bridge, once per bridge, behind a member port of
    /// that bridge or a remote VTEP of its overlay that is not our own address. The switch
    /// numbers the remote VTEPs they name together with the VTEP's `remotes`, so they count
    /// against the same bound.
    fn check_static_macs(&self) -> Result<(), ConfigError> {
        let bridges: HashMap<&str, &BridgeConfig> =
            self.bridges.iter().map(|b| (b.name.as_str(), b)).collect();
        let local_ports: HashSet<&str> = self
            .ports
            .iter()
            .filter(|p| p.mode != PortMode::Uplink)
            .map(|p| p.name.as_str())
            .collect();
        // (port, VLAN) of every membership, built once: a trunk's list may be long.
        let members: HashSet<(&str, u16)> =
            self.ports.iter().flat_map(|p| p.vlans().map(move |v| (p.name.as_str(), v))).collect();
        let mut macs = HashSet::new();
        let mut remotes: HashSet<Ipv4Addr> =
            self.vtep.iter().flat_map(|v| &v.remotes).map(|r| r.ip).collect();
        for s in &self.static_macs {
            let field = format!("static_macs[{}]", s.mac);
            let Some(bridge) = bridges.get(s.bridge.as_str()) else {
                return Err(ConfigError::Unknown { field, kind: "bridge", name: s.bridge.clone() });
            };
            let Some(mac) = parse_mac(&s.mac).filter(|m| m.is_unicast() && *m != MacAddr::ZERO)
            else {
                return Err(invalid(field, "must be a unicast MAC aa:bb:cc:dd:ee:ff"));
            };
            if !macs.insert((s.bridge.as_str(), mac)) {
                return Err(ConfigError::Duplicate { kind: "static mac", name: s.mac.clone() });
            }
            // Frames to the bridge's gateway MAC go to the SVI (routed or consumed) before
            // any MAC lookup, so such an entry would never be used.
            if bridge.svi.as_ref().and_then(|svi| parse_mac(&svi.mac)) == Some(mac) {
                let reason = format!("{mac} is the MAC of bridge {}'s SVI", s.bridge);
                return Err(invalid(field + ".mac", reason));
            }
            match (&s.port, &s.vtep) {
                (Some(p), None) => {
                    if !local_ports.contains(p.as_str()) {
                        return Err(ConfigError::Unknown {
                            field,
                            kind: "access or trunk port",
                            name: p.clone(),
                        });
                    }
                    check_static_port(field, p, bridge, &members)?;
                }
                (None, Some(ip)) => {
                    self.check_static_remote(field, bridge, *ip)?;
                    remotes.insert(*ip);
                }
                _ => return Err(invalid(field, "needs exactly one of port and vtep")),
            }
        }
        if remotes.len() > MAX_REMOTE_VTEPS {
            return Err(invalid(
                "static_macs",
                format!(
                    "{} remote VTEPs with those of vtep.remotes, at most {MAX_REMOTE_VTEPS}",
                    remotes.len()
                ),
            ));
        }
        Ok(())
    }

    /// A static MAC's remote VTEP: its bridge has a VNI (else nothing is sent to a VTEP),
    /// there is a VTEP, and the address is a remote unicast one (our own would send the
    /// frames back to us, a broadcast or multicast one to a group as if it were one VTEP).
    fn check_static_remote(
        &self,
        field: String,
        bridge: &BridgeConfig,
        ip: Ipv4Addr,
    ) -> Result<(), ConfigError> {
        let Some(v) = &self.vtep else {
            return Err(invalid(field, "a vtep entry needs the vtep section"));
        };
        if bridge.vni.is_none() {
            return Err(invalid(
                field + ".vtep",
                format!("bridge {} has no vni, so nothing of it goes to a VTEP", bridge.name),
            ));
        }
        if !is_remote_unicast(ip, v.local_ip) {
            return Err(invalid(
                field + ".vtep",
                format!("{ip} is not a remote unicast address (the VTEP's own is {})", v.local_ip),
            ));
        }
        Ok(())
    }
}

/// A static MAC's port is a member of its bridge: otherwise no output of the bridge matches
/// the entry, and with learning blocked by it every frame to the MAC floods for good.
fn check_static_port(
    field: String,
    port: &str,
    bridge: &BridgeConfig,
    members: &HashSet<(&str, u16)>,
) -> Result<(), ConfigError> {
    let reason = match bridge.vlan {
        None => format!("bridge {} has no vlan, so no port is a member of it", bridge.name),
        Some(v) if !members.contains(&(port, v)) => format!(
            "port {port} is not a member of bridge {} (it does not carry VLAN {v})",
            bridge.name
        ),
        Some(_) => return Ok(()),
    };
    Err(invalid(field + ".port", reason))
}

/// An SVI's subnet `net/len` in its VRF and the SVI's own address `own` in it, as numbers
/// (`u32` for IPv4, `u128` for IPv6).
struct Link<'a, T> {
    vrf: &'a str,
    bridge: &'a str,
    net: T,
    len: u8,
    own: T,
}

/// The VTEP's underlay gateway `g`, or why it cannot be one: a unicast neighbour on the
/// VTEP's subnet `local_ip/prefix_len`, as the switch resolves it by ARP on the uplink (one
/// off the subnet, or our own address, is never answered, and every remote VTEP behind it
/// is unreachable).
pub fn check_vtep_gateway(local_ip: Ipv4Addr, prefix_len: u8, g: Ipv4Addr) -> Result<(), String> {
    let subnet = format!("{local_ip}/{prefix_len} (the VTEP's local_ip/prefix_len)");
    if !is_single_host_v4(g) {
        return Err(format!("{g} is not a unicast address"));
    }
    let (m, own) = (mask(prefix_len), u32::from(local_ip));
    if u32::from(g) & m != own & m {
        return Err(format!("{g} is outside {subnet}"));
    }
    if let Some(what) = not_a_neighbour(u32::from(g), own, own & m, prefix_len) {
        return Err(format!("{g} is {what} {subnet}, not a neighbour on it"));
    }
    Ok(())
}

/// The SVI subnets of each VRF.
fn group_by_vrf<'l, 'a, T>(links: &'l [Link<'a, T>]) -> HashMap<&'a str, Vec<&'l Link<'a, T>>> {
    let mut by_vrf: HashMap<&str, Vec<_>> = HashMap::new();
    for l in links {
        by_vrf.entry(l.vrf).or_default().push(l);
    }
    by_vrf
}

/// What `ip` is in the subnet `net/len` where our address is `own`, when it cannot be a
/// neighbour to forward to: ours, or (below /31, which has neither, RFC 3021) the subnet's
/// network or broadcast address.
fn not_a_neighbour(ip: u32, own: u32, net: u32, len: u8) -> Option<&'static str> {
    if ip == own {
        Some("our own address in")
    } else if len < 31 && ip == net {
        Some("the network address of")
    } else if len < 31 && ip == net | !mask(len) {
        Some("the broadcast address of")
    } else {
        None
    }
}

/// The IPv6 [`not_a_neighbour`]: ours, or (below /127, RFC 6164) the subnet's Subnet-Router
/// anycast address (RFC 4291 §2.6.1), which is the router's.
fn not_a_neighbour6(ip: u128, own: u128, net: u128, len: u8) -> Option<&'static str> {
    if ip == own {
        Some("our own address in")
    } else if len < 127 && ip == net {
        Some("the Subnet-Router anycast address of")
    } else {
        None
    }
}

/// What a route check needs of an address family: its addresses as bits, its prefix
/// parser and masks, and which addresses of a subnet are no neighbour.
trait Family: Copy + std::fmt::Display {
    type Bits: Copy + Eq + std::ops::BitAnd<Output = Self::Bits>;
    /// How a prefix of the family is written, for a message.
    const PREFIX: &'static str;
    fn bits(self) -> Self::Bits;
    fn from_bits(bits: Self::Bits) -> Self;
    fn mask(len: u8) -> Self::Bits;
    fn parse_prefix(prefix: &str) -> Option<(Self, u8)>;
    fn not_a_neighbour(
        ip: Self::Bits,
        own: Self::Bits,
        net: Self::Bits,
        len: u8,
    ) -> Option<&'static str>;
    fn any(self) -> IpAddr;
}

impl Family for Ipv4Addr {
    type Bits = u32;
    const PREFIX: &'static str = "a.b.c.d/len";
    fn bits(self) -> u32 {
        u32::from(self)
    }
    fn from_bits(bits: u32) -> Self {
        Ipv4Addr::from(bits)
    }
    fn mask(len: u8) -> u32 {
        mask(len)
    }
    fn parse_prefix(prefix: &str) -> Option<(Self, u8)> {
        parse_cidr(prefix)
    }
    fn not_a_neighbour(ip: u32, own: u32, net: u32, len: u8) -> Option<&'static str> {
        not_a_neighbour(ip, own, net, len)
    }
    fn any(self) -> IpAddr {
        IpAddr::V4(self)
    }
}

impl Family for Ipv6Addr {
    type Bits = u128;
    const PREFIX: &'static str = "an IPv6 prefix";
    fn bits(self) -> u128 {
        u128::from(self)
    }
    fn from_bits(bits: u128) -> Self {
        Ipv6Addr::from(bits)
    }
    fn mask(len: u8) -> u128 {
        mask6(len)
    }
    fn parse_prefix(prefix: &str) -> Option<(Self, u8)> {
        parse_cidr6(prefix)
    }
    fn not_a_neighbour(ip: u128, own: u128, net: u128, len: u8) -> Option<&'static str> {
        not_a_neighbour6(ip, own, net, len)
    }
    fn any(self) -> IpAddr {
        IpAddr::V6(self)
    }
}

/// A route's destination prefix of the family `F`, or why it is none: it parses and has no
/// host bits set (`ip route` refuses those too: "Invalid prefix for given prefix length").
fn network_prefix<F: Family>(prefix: &str) -> Result<(F, u8), String> {
    let Some((ip, len)) = F::parse_prefix(prefix) else {
        return Err(format!("{prefix:?} is not {} (the next hop's family)", F::PREFIX));
    };
    let net = ip.bits() & F::mask(len);
    if net != ip.bits() {
        return Err(format!(
            "invalid prefix for its length: host bits set (the network is {}/{len})",
            F::from_bits(net)
        ));
    }
    Ok((ip, len))
}

/// A route's destination prefix in the family of its `next_hop` ([`network_prefix`]).
pub fn parse_route_prefix(prefix: &str, next_hop: IpAddr) -> Result<(IpAddr, u8), String> {
    match next_hop {
        IpAddr::V4(_) => network_prefix::<Ipv4Addr>(prefix).map(|(ip, len)| (ip.any(), len)),
        IpAddr::V6(_) => network_prefix::<Ipv6Addr>(prefix).map(|(ip, len)| (ip.any(), len)),
    }
}

/// A route of a VRF whose SVI subnets are `links`: its prefix has no host bits set
/// (`ip route` refuses those too) and is no connected subnet (the connected route would hide
/// it), and its next hop is a neighbour on one of the subnets. Returns the prefix.
fn check_route<F: Family>(
    field: &str,
    prefix: &str,
    next_hop: F,
    links: &[&Link<'_, F::Bits>],
) -> Result<(IpAddr, u8), ConfigError> {
    let (ip, len) =
        network_prefix::<F>(prefix).map_err(|e| invalid(format!("{field}.prefix"), e))?;
    let net = ip.bits();
    if let Some(l) = links.iter().find(|l| l.net == net && l.len == len) {
        let reason = format!("is the connected subnet of the SVI of bridge {}", l.bridge);
        return Err(invalid(format!("{field}.prefix"), reason));
    }
    let nh = next_hop.bits();
    let Some(l) = links.iter().find(|l| nh & F::mask(l.len) == l.net) else {
        return Err(invalid(
            format!("{field}.next_hop"),
            "must be inside the subnet of an SVI of the same VRF",
        ));
    };
    if let Some(what) = F::not_a_neighbour(nh, l.own, l.net, l.len) {
        let reason = format!(
            "{next_hop} is {what} {}/{} (SVI of bridge {}), not a neighbour on it",
            F::from_bits(l.own),
            l.len,
            l.bridge
        );
        return Err(invalid(format!("{field}.next_hop"), reason));
    }
    Ok((ip.any(), len))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"
        [[ports]]
        name = "pf0vf0"
        mode = "access"
        vlan = 10

        [[ports]]
        name = "pf0vf1"
        mode = "trunk"
        vlans = [10, 20]
        native_vlan = 30
        mtu = 9000

        [[ports]]
        name = "p0"
        mode = "uplink"

        [[bridges]]
        name = "br10"
        vlan = 10
        vni = 100

        [vtep]
        uplink = "p0"
        local_ip = "198.51.100.10"
        local_mac = "02:00:00:00:00:10"
        remotes = [{ ip = "198.51.100.2", vnis = [100], encap = "geneve" }]

        [[static_macs]]
        bridge = "br10"
        mac = "02:00:00:00:aa:01"
        port = "pf0vf0"
    "#;

    #[test]
    fn parses_and_validates_toml() {
        let c: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        c.validate().unwrap();
        assert_eq!(c.ports[1].mtu, 9000);
        assert_eq!(c.ports[0].mode, PortMode::Access { vlan: 10 });
        assert_eq!(c.bridges[0].ageing_secs, DEFAULT_AGEING_SECS);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<SwitchConfig>(&json).unwrap(), c);
    }

    #[test]
    fn refuses_bad_configs_with_a_named_field() {
        let base: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        type Edit = Box<dyn Fn(&mut SwitchConfig)>;
        let cases: Vec<(Edit, &str)> = vec![
            (Box::new(|c| c.ports[0].mode = PortMode::Access { vlan: 4095 }), "ports[pf0vf0].vlan"),
            (Box::new(|c| c.ports[1].name = "pf0vf0".into()), "duplicate port"),
            (Box::new(|c| c.bridges[0].vni = Some(1 << 24)), "bridges[br10].vni"),
            (Box::new(|c| c.vtep.as_mut().unwrap().uplink = "pf0vf0".into()), "vtep.uplink"),
            (Box::new(|c| c.vtep.as_mut().unwrap().remotes[0].vnis = vec![5]), "vnis"),
            (Box::new(|c| c.static_macs[0].mac = "ff:ff:ff:ff:ff:ff".into()), "static_macs"),
            (Box::new(|c| c.static_macs[0].port = Some("p0".into())), "static_macs"),
            (Box::new(|c| c.ports[0].mtu = 20), "mtu"),
            (
                Box::new(|c| c.bridges[0].mac_limit = MAX_MAC_LIMIT + 1),
                "bridges[br10].mac_limit: 1048577 outside 1..=1048576",
            ),
            // Zero is the default through the API (proto3), so a file may not mean
            // something else by it: a bridge that learns nothing, a /0 underlay, TTL 0.
            (Box::new(|c| c.bridges[0].mac_limit = 0), "bridges[br10].mac_limit: 0 outside"),
            (Box::new(|c| c.vtep.as_mut().unwrap().prefix_len = 0), "vtep.prefix_len"),
            (Box::new(|c| c.vtep.as_mut().unwrap().ttl = 0), "vtep.ttl"),
            (
                Box::new(|c| c.flow_cache_size = u32::MAX),
                "flow_cache_size: 4294967295 entries, at most 4194304",
            ),
            (Box::new(|c| c.ports[0].name = "a/b".into()), "name"),
            (Box::new(|c| c.ports[0].name = "..".into()), "ports[..].name"),
            (Box::new(|c| c.ports[0].name = "a:0".into()), "ports[a:0].name"),
            (Box::new(|c| c.ports[0].name = "a\tb".into()), "ports[a\tb].name"),
            (Box::new(|c| c.ports[0].name = "pf0vf\u{e0}".into()), "ports[pf0vf\u{e0}].name"),
            (Box::new(|c| c.bridges[0].name = String::new()), "bridges[].name: \"\" is not"),
            (Box::new(|c| c.bridges[0].name = "a\nb".into()), "bridges[a\nb].name"),
            (Box::new(|c| c.bridges[0].name = "b".repeat(MAX_NAME + 1)), "printable ASCII"),
            (
                Box::new(|c| c.vrfs = vec![VrfConfig { name: String::new(), routes: Vec::new() }]),
                "vrfs[].name",
            ),
            (
                Box::new(|c| {
                    let all: Vec<u16> = (1..=MAX_VLAN).collect();
                    let trunk = |i: usize| PortConfig {
                        name: format!("t{i}"),
                        mode: PortMode::Trunk { vlans: all.clone(), native_vlan: None },
                        mtu: DEFAULT_MTU,
                        admin_up: true,
                    };
                    c.ports.extend((0..=MAX_TRUNK_VLANS / all.len()).map(trunk));
                }),
                "ports[].vlans: 266113 entries, at most 262144",
            ),
            (
                Box::new(|c| {
                    let v = c.vtep.as_mut().unwrap();
                    v.remotes[0].vnis = vec![100; MAX_FLOOD_VNIS + 1];
                }),
                "vtep.remotes[].vnis: 262145 entries, at most 262144",
            ),
            (
                Box::new(|c| {
                    let v = c.vtep.as_mut().unwrap();
                    v.remotes = vec![v.remotes[0].clone(); MAX_REMOTE_VTEPS + 1];
                }),
                "vtep.remotes: 4097 entries, at most 4096",
            ),
            (
                Box::new(|c| {
                    c.vrfs = vec![VrfConfig { name: "v".into(), routes: Vec::new() }; MAX_VRFS + 1];
                }),
                "vrfs: 4097 entries",
            ),
            (
                Box::new(|c| {
                    let route = RouteConfig {
                        prefix: "198.51.100.0/24".into(),
                        next_hop: "192.0.2.1".parse().unwrap(),
                    };
                    let half = MAX_ROUTES / 2 + 1;
                    c.vrfs = vec![VrfConfig { name: "v".into(), routes: vec![route; half] }; 2];
                }),
                "vrfs[].routes: 16386 entries, at most 16384",
            ),
            (
                Box::new(|c| {
                    let mac = StaticMacConfig {
                        bridge: "b".into(),
                        mac: "02:00:00:00:00:01".into(),
                        port: None,
                        vtep: None,
                    };
                    c.static_macs = vec![mac; MAX_STATIC_MACS + 1];
                }),
                "static_macs: 16385 entries",
            ),
        ];
        for (edit, want) in cases {
            let mut c = base.clone();
            edit(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(want), "{e} does not mention {want}");
        }
        assert!(toml::from_str::<SwitchConfig>("bogus = 1").is_err());
        for bad in [
            "[[ports]]\nname = \"a\"\nmode = \"access\"\nvlan = 1\nbogus = 1",
            "[[ports]]\nname = \"a\"\nmode = \"access\"",
            "[[ports]]\nname = \"a\"\nmode = \"trunk\"\nvlan = 1",
            "[[ports]]\nname = \"a\"\nmode = \"uplink\"\nvlans = [1]",
            "[[ports]]\nname = \"a\"\nmode = \"hybrid\"",
        ] {
            assert!(toml::from_str::<SwitchConfig>(bad).is_err(), "{bad}");
        }
    }

    /// A static MAC behind our own address, no address or a group would send its frames
    /// back to us or to everyone; a remote VTEP of the table is fine.
    #[test]
    fn a_static_mac_needs_a_remote_unicast_vtep() {
        let mut c: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        c.static_macs[0].port = None;
        for (ip, ok) in [
            ("198.51.100.2", true),
            ("203.0.113.7", true),
            ("198.51.100.10", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
        ] {
            c.static_macs[0].vtep = Some(ip.parse().unwrap());
            match c.validate() {
                Ok(()) => assert!(ok, "{ip} accepted"),
                Err(e) => {
                    assert!(!ok, "{ip}: {e}");
                    assert!(e.to_string().contains("static_macs[02:00:00:00:aa:01].vtep"), "{e}");
                }
            }
        }
        let mut c: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        c.vtep.as_mut().unwrap().remotes[0].ip = Ipv4Addr::BROADCAST;
        assert!(c.validate().unwrap_err().to_string().contains("vtep.remotes[255.255.255.255]"));
    }

    /// The remote VTEPs that static MACs name are numbered with the VTEP's own remotes, so
    /// together they stay within MAX_REMOTE_VTEPS.
    #[test]
    fn static_mac_remotes_count_against_the_remote_bound() {
        let base: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        let with = |extra: u32| {
            let mut c = base.clone();
            c.static_macs = (0..extra)
                .map(|i| StaticMacConfig {
                    bridge: "br10".into(),
                    mac: format!("02:00:00:{:02x}:{:02x}:01", i >> 8, i & 0xff),
                    port: None,
                    vtep: Some(Ipv4Addr::from(0x0a00_0000 + i)),
                })
                .collect();
            c
        };
        // The VTEP has one remote of its own.
        let fits = u32::try_from(MAX_REMOTE_VTEPS).unwrap() - 1;
        with(fits).validate().unwrap();
        let mut c = with(fits);
        // Another MAC behind a remote already counted adds none.
        c.static_macs.push(StaticMacConfig {
            mac: "02:00:00:ff:ff:01".into(),
            vtep: Some("198.51.100.2".parse().unwrap()),
            ..c.static_macs[0].clone()
        });
        c.validate().unwrap();
        let e = with(fits + 1).validate().unwrap_err().to_string();
        assert!(e.contains("static_macs: 4097 remote VTEPs"), "{e}");
    }

    /// An SVI is the gateway of its hosts: its address is a unicast host address the router
    /// forwards for, not its subnet's network or broadcast address.
    #[test]
    fn svi_addresses_are_routable_unicast_hosts() {
        let mut base: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        base.vrfs = vec![VrfConfig { name: "red".into(), routes: Vec::new() }];
        base.bridges[0].svi = Some(SviConfig {
            vrf: "red".into(),
            address: "192.0.2.254/24".into(),
            mac: "02:00:00:00:fe:01".into(),
            address6: None,
        });
        base.validate().unwrap();
        for (address, refused) in [
            ("192.0.2.1/24", None),
            ("203.0.113.6/30", None),
            ("255.255.255.255/24", Some("255.255.255.255 is not a routable unicast address")),
            ("127.0.0.1/8", Some("not a routable")),
            ("0.1.2.3/8", Some("not a routable")),
            ("224.0.0.1/24", Some("not a routable")),
            ("240.0.0.1/24", Some("not a routable")),
            ("169.254.0.1/16", Some("not a routable")),
            ("192.0.2.0/24", Some("192.0.2.0 is the network or broadcast address of 192.0.2.0/24")),
            ("192.0.2.255/24", Some("192.0.2.255 is the network or broadcast address of")),
            ("203.0.113.7/30", Some("network or broadcast")),
            ("192.0.2.1/31", Some("with len 1..=30")),
            ("192.0.2.1/33", Some("with len 1..=30")),
        ] {
            let mut c = base.clone();
            c.bridges[0].svi.as_mut().unwrap().address = address.into();
            match (c.validate(), refused) {
                (Ok(()), None) => {}
                (Err(e), Some(want)) => {
                    let e = e.to_string();
                    assert!(e.starts_with("bridges[br10].svi.address: "), "{e}");
                    assert!(e.contains(want), "{e} does not mention {want}");
                }
                (got, want) => panic!("{address}: {got:?}, expected {want:?}"),
            }
        }
        for (address6, refused) in [
            ("2001:db8:10::1/64", None),
            ("2001:db8:10::/64", None),
            ("::1/64", Some("::1 is not a routable unicast address")),
            ("::ffff:192.0.2.1/120", Some("::ffff:192.0.2.1 is not a routable")),
            ("fe80::1/64", Some("not a routable")),
            ("ff02::1/64", Some("not a routable")),
            ("::/64", Some("not a routable")),
            ("2001:db8::1/128", Some("with len 1..=127")),
        ] {
            let mut c = base.clone();
            c.bridges[0].svi.as_mut().unwrap().address6 = Some(address6.into());
            match (c.validate(), refused) {
                (Ok(()), None) => {}
                (Err(e), Some(want)) => {
                    let e = e.to_string();
                    assert!(e.starts_with("bridges[br10].svi.address6: "), "{e}");
                    assert!(e.contains(want), "{e} does not mention {want}");
                }
                (got, want) => panic!("{address6}: {got:?}, expected {want:?}"),
            }
        }
    }

    /// The underlay addresses (ours, the gateway, remote VTEPs, static MACs' VTEPs) are
    /// single hosts: Linux drops "this network" and loopback ones as martians, and
    /// decapsulation drops a class E (240/4) outer source as one, so such a remote would
    /// never be heard from.
    #[test]
    fn underlay_addresses_are_host_addresses() {
        let base: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        type Edit = Box<dyn Fn(&mut SwitchConfig)>;
        let vtep = |c: &mut SwitchConfig| c.vtep.clone().unwrap();
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(move |c| {
                    c.vtep = Some(VtepConfig { local_ip: "127.0.0.1".parse().unwrap(), ..vtep(c) })
                }),
                "vtep.local_ip: must be a unicast address",
            ),
            (
                Box::new(move |c| {
                    c.vtep = Some(VtepConfig { local_ip: "0.0.0.7".parse().unwrap(), ..vtep(c) })
                }),
                "vtep.local_ip: must be a unicast address",
            ),
            (
                Box::new(|c| {
                    c.vtep.as_mut().unwrap().remotes[0].ip = "127.0.0.2".parse().unwrap();
                }),
                "vtep.remotes[127.0.0.2]: not a remote unicast address",
            ),
            (
                Box::new(|c| {
                    c.vtep.as_mut().unwrap().remotes[0].ip = "240.0.0.1".parse().unwrap();
                }),
                "vtep.remotes[240.0.0.1]: not a remote unicast address",
            ),
            (
                Box::new(move |c| {
                    c.vtep = Some(VtepConfig { local_ip: "255.1.2.3".parse().unwrap(), ..vtep(c) })
                }),
                "vtep.local_ip: must be a unicast address",
            ),
            (
                Box::new(|c| {
                    c.static_macs[0].port = None;
                    c.static_macs[0].vtep = Some("250.0.0.9".parse().unwrap());
                }),
                "static_macs[02:00:00:00:aa:01].vtep: 250.0.0.9 is not a remote unicast address",
            ),
            (
                Box::new(|c| {
                    let v = c.vtep.as_mut().unwrap();
                    v.prefix_len = 1;
                    v.gateway = Some("127.0.0.1".parse().unwrap());
                }),
                "vtep.gateway: 127.0.0.1 is not a unicast address",
            ),
            (
                Box::new(|c| {
                    c.static_macs[0].port = None;
                    c.static_macs[0].vtep = Some("0.1.2.3".parse().unwrap());
                }),
                "static_macs[02:00:00:00:aa:01].vtep: 0.1.2.3 is not a remote unicast address",
            ),
        ];
        for (edit, want) in cases {
            let mut c = base.clone();
            edit(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(want), "{e} does not mention {want}");
        }
    }

    /// A route's prefix is a network of its next hop's family, as `ip route` takes it.
    #[test]
    fn route_prefixes_are_networks_of_the_next_hops_family() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(parse_route_prefix("10.0.0.0/8", v4), Ok(("10.0.0.0".parse().unwrap(), 8)));
        assert_eq!(parse_route_prefix("::/0", v6), Ok(("::".parse().unwrap(), 0)));
        for (prefix, nh, want) in [
            ("10.0.0.1/8", v4, "host bits set (the network is 10.0.0.0/8)"),
            ("10.0.0.0/33", v4, "\"10.0.0.0/33\" is not a.b.c.d/len"),
            ("10.0.0.0", v4, "is not a.b.c.d/len"),
            ("2001:db8::/32", v4, "is not a.b.c.d/len"),
            ("10.0.0.0/8", v6, "is not an IPv6 prefix"),
            ("2001:db8::1/32", v6, "host bits set (the network is 2001:db8::/32)"),
            ("2001:db8::/129", v6, "is not an IPv6 prefix"),
        ] {
            let e = parse_route_prefix(prefix, nh).unwrap_err();
            assert!(e.contains(want), "{prefix}: {e} does not mention {want}");
        }
    }

    /// A static MAC that is its bridge's SVI MAC would never be used; in another bridge it
    /// is just a host's.
    #[test]
    fn a_static_mac_is_not_its_bridges_svi_mac() {
        let mut c: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        c.vrfs = vec![VrfConfig { name: "red".into(), routes: Vec::new() }];
        c.bridges[0].svi = Some(SviConfig {
            vrf: "red".into(),
            address: "192.0.2.254/24".into(),
            mac: "02:00:00:00:AA:01".into(),
            address6: None,
        });
        let e = c.validate().unwrap_err().to_string();
        assert_eq!(
            e,
            "static_macs[02:00:00:00:aa:01].mac: 02:00:00:00:aa:01 is the MAC of bridge br10's SVI"
        );
        let svi = c.bridges[0].svi.take();
        c.bridges.push(BridgeConfig {
            name: "br20".into(),
            vlan: Some(20),
            vni: None,
            svi,
            ..c.bridges[0].clone()
        });
        c.validate().unwrap();
    }

    /// A static MAC behind a port outside its bridge, or behind a VTEP on a bridge without
    /// an overlay, would never be delivered (and blocks learning the MAC where it is).
    #[test]
    fn a_static_mac_is_behind_a_member_of_its_bridge() {
        let mut base: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        let bridge = |name: &str, vlan: Option<u16>, vni: Option<u32>| BridgeConfig {
            name: name.into(),
            vlan,
            vni,
            ..base.bridges[0].clone()
        };
        let more = [
            bridge("br20", Some(20), None),
            bridge("br30", Some(30), None),
            bridge("br40", Some(40), None),
            bridge("overlay", None, Some(200)),
        ];
        base.bridges.extend(more);
        let port = |p: &str| (Some(p.to_owned()), None);
        let vtep = |ip: &str| (None, Some(ip.parse().unwrap()));
        for (bridge, (port, vtep), refused) in [
            ("br10", port("pf0vf0"), None),
            ("br10", port("pf0vf1"), None),
            ("br30", port("pf0vf1"), None),
            ("overlay", vtep("198.51.100.2"), None),
            ("br40", port("pf0vf0"), Some("port pf0vf0 is not a member of bridge br40")),
            ("br40", port("pf0vf1"), Some("port pf0vf1 is not a member of bridge br40")),
            ("br20", port("pf0vf0"), Some("port pf0vf0 is not a member of bridge br20")),
            ("overlay", port("pf0vf0"), Some("bridge overlay has no vlan")),
            ("br20", vtep("198.51.100.2"), Some("bridge br20 has no vni")),
        ] {
            let mut c = base.clone();
            c.static_macs[0] =
                StaticMacConfig { bridge: bridge.into(), port, vtep, ..c.static_macs[0].clone() };
            match (c.validate(), refused) {
                (Ok(()), None) => {}
                (Err(e), Some(want)) => {
                    let e = e.to_string();
                    assert!(e.starts_with("static_macs[02:00:00:00:aa:01]."), "{e}");
                    assert!(e.contains(want), "{e} does not mention {want}");
                }
                (got, want) => panic!("{bridge}: {got:?}, expected {want:?}"),
            }
        }
    }

    /// Routes that would be black holes or silently ignored are refused: a second route
    /// for a prefix, a connected subnet's prefix, host bits in the prefix, and a next hop
    /// that is the SVI itself or its subnet's network or broadcast address.
    #[test]
    fn refuses_routes_that_cannot_forward() {
        let mut base: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        base.bridges[0].svi = Some(SviConfig {
            vrf: "red".into(),
            address: "192.0.2.254/24".into(),
            mac: "02:00:00:00:fe:01".into(),
            address6: Some("2001:db8:10::1/64".into()),
        });
        let route = |prefix: &str, next_hop: &str| RouteConfig {
            prefix: prefix.into(),
            next_hop: next_hop.parse().unwrap(),
        };
        base.vrfs = vec![VrfConfig {
            name: "red".into(),
            routes: vec![
                route("0.0.0.0/0", "192.0.2.1"),
                route("192.0.2.128/25", "192.0.2.1"),
                route("2001:db8:99::/48", "2001:db8:10::9"),
            ],
        }];
        base.validate().unwrap();
        for (extra, want) in [
            (route("0.0.0.0/0", "192.0.2.2"), "vrfs[red].routes[0.0.0.0/0].prefix: another route"),
            (route("0.0.0.0/00", "192.0.2.2"), "routes[0.0.0.0/00].prefix: another route"),
            (
                route("2001:db8:99::/48", "2001:db8:10::8"),
                "routes[2001:db8:99::/48].prefix: another",
            ),
            (
                route("192.0.2.0/24", "192.0.2.1"),
                "prefix: is the connected subnet of the SVI of bridge br10",
            ),
            (route("2001:db8:10::/64", "2001:db8:10::9"), "prefix: is the connected subnet"),
            (
                route("10.1.2.3/8", "192.0.2.1"),
                "routes[10.1.2.3/8].prefix: invalid prefix for its length: host bits set (the network is 10.0.0.0/8)",
            ),
            (route("2001:db8:99::1/48", "2001:db8:10::9"), "host bits set"),
            (
                route("10.0.0.0/8", "192.0.2.254"),
                "next_hop: 192.0.2.254 is our own address in 192.0.2.254/24 (SVI of bridge br10)",
            ),
            (route("10.0.0.0/8", "192.0.2.0"), "next_hop: 192.0.2.0 is the network address of"),
            (
                route("10.0.0.0/8", "192.0.2.255"),
                "next_hop: 192.0.2.255 is the broadcast address of",
            ),
            (
                route("2001:db8:98::/48", "2001:db8:10::1"),
                "is our own address in 2001:db8:10::1/64",
            ),
            (route("2001:db8:98::/48", "2001:db8:10::"), "Subnet-Router anycast"),
            (route("10.0.0.0/8", "203.0.113.1"), "next_hop: must be inside the subnet"),
        ] {
            let mut c = base.clone();
            c.vrfs[0].routes.push(extra);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(want), "{e} does not mention {want}");
        }
        // The same prefix in another VRF is another route.
        let mut c = base.clone();
        c.vrfs.push(VrfConfig { name: "blue".into(), routes: Vec::new() });
        c.bridges.push(BridgeConfig {
            name: "br20".into(),
            vlan: Some(20),
            vni: None,
            svi: Some(SviConfig {
                vrf: "blue".into(),
                address: "203.0.113.1/24".into(),
                mac: "02:00:00:00:fe:02".into(),
                address6: None,
            }),
            ..c.bridges[0].clone()
        });
        c.vrfs[1].routes.push(route("0.0.0.0/0", "203.0.113.2"));
        c.validate().unwrap();
    }

    /// The underlay gateway is a unicast neighbour on the VTEP's subnet.
    #[test]
    fn the_vtep_gateway_is_a_neighbour_on_its_subnet() {
        let base: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        for (gateway, prefix_len, refused) in [
            ("198.51.100.1", 24, None),
            ("198.51.100.11", 31, None),
            ("198.51.100.10", 24, Some("198.51.100.10 is our own address in 198.51.100.10/24")),
            ("198.51.100.0", 24, Some("the network address of 198.51.100.10/24")),
            ("198.51.100.255", 24, Some("the broadcast address of 198.51.100.10/24")),
            ("203.0.113.1", 24, Some("203.0.113.1 is outside 198.51.100.10/24")),
            ("198.51.100.1", 32, Some("outside 198.51.100.10/32")),
            ("0.0.0.0", 24, Some("0.0.0.0 is not a unicast address")),
            ("255.255.255.255", 24, Some("not a unicast address")),
            ("224.0.0.1", 24, Some("not a unicast address")),
        ] {
            let mut c = base.clone();
            let v = c.vtep.as_mut().unwrap();
            v.gateway = Some(gateway.parse().unwrap());
            v.prefix_len = prefix_len;
            match (c.validate(), refused) {
                (Ok(()), None) => {}
                (Err(e), Some(want)) => {
                    let e = e.to_string();
                    assert!(e.starts_with("vtep.gateway: ") && e.contains(want), "{e}: {want}");
                }
                (got, want) => panic!("{gateway}/{prefix_len}: {got:?}, expected {want:?}"),
            }
        }
    }

    /// A prefix length is one to three digits: no sign, no run of leading zeros that would
    /// let one route's prefix string be any size.
    #[test]
    fn cidr_parsing() {
        assert_eq!(parse_cidr("10.0.0.0/8"), Some((Ipv4Addr::new(10, 0, 0, 0), 8)));
        assert_eq!(parse_cidr("10.0.0.0/008"), Some((Ipv4Addr::new(10, 0, 0, 0), 8)));
        assert_eq!(parse_cidr6("2001:db8::/128"), Some(("2001:db8::".parse().unwrap(), 128)));
        let long = format!("10.0.0.0/{}8", "0".repeat(100_000));
        for bad in
            ["10.0.0.0/+8", "10.0.0.0/0008", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-0", &long]
        {
            assert_eq!(parse_cidr(bad), None, "{bad:.20}");
        }
        for bad in ["2001:db8::/+64", "2001:db8::/0064", "2001:db8::/129", "2001:db8::/ 64"] {
            assert_eq!(parse_cidr6(bad), None, "{bad}");
        }
    }

    #[test]
    fn mac_parsing() {
        assert_eq!(parse_mac("02:00:00:00:00:0a"), Some(MacAddr([2, 0, 0, 0, 0, 10])));
        assert_eq!(parse_mac("02-00-00-00-00-0A"), Some(MacAddr([2, 0, 0, 0, 0, 10])));
        for bad in
            ["", "02:00:00:00:00", "02:00:00:00:00:00:00", "2:0:0:0:0:0", "zz:00:00:00:00:00"]
        {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }
}
