//! The pipeline: a burst of received frames in, frames to send out.
//!
//! Per frame (ingress on an access or trunk port):
//! 1. admin state, ingress MTU, [`dissect`] (a parse failure is a drop counted under the
//!    wire crate's reason);
//! 2. VLAN classification (IEEE 802.1Q §8.6.1 ingress rules: access ports take untagged
//!    and priority-tagged frames, trunks their allowed VLANs and the native VLAN), then the
//!    bridge of that VLAN;
//! 3. the flow cache; on a miss the slow path learns the source MAC (IEEE 802.1Q §8.7),
//!    looks up the destination or floods (all members but the ingress; remote VTEPs of the
//!    VNI's flood list: head-end replication instead of the underlay multicast group of
//!    RFC 7348 §4.2) and installs the result;
//! 4. each output: pop/push the tag for the egress port, or encapsulate towards a remote
//!    VTEP in VXLAN (RFC 7348 §5) or Geneve (RFC 8926 §3) with a UDP source port from the
//!    inner flow hash.
//!
//! A frame addressed to a bridge's SVI is routed instead (`l3`: IPv4 and IPv6, ARP/ND,
//! TTL/hop limit, ICMP errors); the routed result is cached the same way.
//!
//! On the uplink the switch is an IPv4 host: it answers ARP for its VTEP address
//! (RFC 826), resolves its next hops with ARP requests, and decapsulates VXLAN and Geneve
//! sent to it;
//! the inner frame then enters its bridge as if received on a port, except that it is never
//! flooded back into the overlay (the split-horizon rule of full-mesh VPLS, RFC 4762).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use dpu_wire::addr::is_single_host_v4;
use dpu_wire::arp::{self, ArpOperation, ArpPacket, ArpRepr};
use dpu_wire::dissect::{FrameInfo, TunnelKind, dissect};
use dpu_wire::ecn;
use dpu_wire::encap::{self, Tunnel, Underlay, UnderlayAddrs};
use dpu_wire::ethernet::{self, EthernetRepr, VlanStack, VlanTag};
use dpu_wire::ipv4::Ipv4Packet;
use dpu_wire::{EtherType, IpProtocol, MacAddr};
use serde::Serialize;

use crate::config::{ConfigError, Encap, PortMode, SwitchConfig, parse_mac, subnet_broadcast};
use crate::counters::{DropReason, PortCounters, PortCountersView, TxDrops};
use crate::fastkey;
use crate::flow::{
    DEFAULT_CAPACITY, FlowCache, FlowEntry, FlowKey, FlowStats, Out, Outs, PackedKey, Verdict,
};
use crate::mac::{Dest, Learned, MacEntry, MacTable};
use crate::packet::{PacketBuf, PortId, Rx, Tx};

pub(crate) mod l3;
mod neigh;
use l3::{IcmpKind, Svi, Vrf};

/// Maps on the packet path: seeded per process (some keys come from the network).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::quality::RandomState>;

/// The bridge of each VLAN id, indexed directly: every frame from a local port looks its
/// VLAN up, and an index is cheaper than hashing (a 12-bit id, 8 KiB of table).
#[derive(Debug, Clone)]
struct VlanIndex(Box<[u16; 4096]>);

impl VlanIndex {
    const NONE: u16 = u16::MAX;

    fn get(&self, vlan: u16) -> Option<u16> {
        self.0.get(usize::from(vlan)).copied().filter(|&b| b != Self::NONE)
    }

    /// Maps `vlan` to `bridge`; an id outside 0..4096 (refused by validation) is ignored.
    fn insert(&mut self, vlan: u16, bridge: u16) {
        if let Some(slot) = self.0.get_mut(usize::from(vlan)) {
            *slot = bridge;
        }
    }

    fn clear(&mut self) {
        self.0.fill(Self::NONE);
    }
}

impl Default for VlanIndex {
    fn default() -> Self {
        VlanIndex(Box::new([Self::NONE; 4096]))
    }
}

/// Flows idle this long are removed by [`Switch::tick`].
pub const FLOW_IDLE: Duration = Duration::from_secs(30);
/// [`Switch::tick`] sweeps the flow cache at most this often: a sweep walks every entry under
/// the switch's lock, and the workers tick every 250 ms.
pub const FLOW_SWEEP_EVERY: Duration = Duration::from_secs(1);
/// At most one ARP request per unresolved next hop this often.
pub const ARP_RETRY: Duration = Duration::from_secs(1);
/// Most remote VTEPs learned from traffic (configured ones do not count).
pub const MAX_LEARNED_VTEPS: usize = 1024;
/// A learned remote VTEP nothing arrived from for this long is forgotten, with the MACs
/// behind it (as Linux's VXLAN forwarding database ages, 300 s by default): spoofed or
/// departed ones do not hold the learned places for good.
pub const LEARNED_VTEP_AGEING: Duration = Duration::from_secs(300);
/// ARP frames are padded to the Ethernet minimum (IEEE 802.3 §3.2.8, 60 octets without FCS).
const MIN_FRAME: usize = 60;

/// How long a removed port's id rests before another port may take it: longer than a
/// worker takes to close the old port's socket (its next tick, `io::TICK`), so no frame
/// received on the old interface is taken for the new port's, and never within the apply
/// that removed it (its learned MACs are dropped by that apply, its bridges' flows are stale).
pub const PORT_ID_REST: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct PortState {
    name: String,
    mode: PortMode,
    mtu: u16,
    admin_up: bool,
    counters: PortCounters,
}

#[derive(Debug)]
struct BridgeState {
    name: String,
    vlan: Option<u16>,
    vni: Option<u32>,
    ageing: Duration,
    mac_limit: u32,
    /// Bumped whenever the bridge's MAC table changes; part of every flow entry.
    epoch: u64,
    /// Member ports and the tag each sends with.
    members: Vec<(PortId, Option<u16>)>,
    /// Remote VTEPs receiving this bridge's BUM traffic.
    flood: Vec<u16>,
    /// Index of its SVI.
    svi: Option<u16>,
}

#[derive(Debug)]
struct LocalVtep {
    uplink: PortId,
    ip: Ipv4Addr,
    mac: MacAddr,
    prefix_len: u8,
    gateway: Option<Ipv4Addr>,
    udp_checksum: bool,
    ttl: u8,
    learn_remotes: bool,
}

impl LocalVtep {
    fn on_link(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.ip) & mask
    }

    fn next_hop(&self, ip: Ipv4Addr) -> Ipv4Addr {
        if self.on_link(ip) { ip } else { self.gateway.unwrap_or(ip) }
    }
}

#[derive(Debug)]
struct RemoteVtep {
    ip: Ipv4Addr,
    encap: Encap,
    next_hop: Ipv4Addr,
    learned: bool,
    /// Its encapsulation is what its packets came with (learned, or inherited from a
    /// learned remote by one only static MACs name), not what a configuration said.
    encap_seen: bool,
    vnis: Vec<u32>,
    tx_packets: u64,
    rx_packets: u64,
    /// When a packet from it last arrived (or it was configured or learned).
    last_seen: Instant,
}

/// An underlay next hop (the VTEP's gateway, or an on-link remote VTEP).
#[derive(Debug, Clone, Copy)]
struct Neighbour {
    mac: Option<MacAddr>,
    updated: Instant,
    last_request: Option<Instant>,
    /// Probes sent since it was last heard from (aged as the SVIs' neighbours:
    /// [`neigh::ageing`]).
    probes: u32,
}

impl Neighbour {
    fn new(now: Instant) -> Self {
        Neighbour { mac: None, updated: now, last_request: None, probes: 0 }
    }

    fn heard(&mut self, now: Instant, mac: MacAddr) {
        self.mac = Some(mac);
        self.updated = now;
        self.probes = 0;
    }
}

/// Switch-wide counters (not tied to one port).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SwitchCounters {
    /// ARP replies sent for our VTEP address.
    pub arp_replies: u64,
    /// ARP requests sent for next hops.
    pub arp_requests: u64,
    /// Frames handed in on a port id the switch does not have.
    pub unknown_port: u64,
    /// Source MACs not learned because a bridge's table was full.
    pub mac_limit_hits: u64,
    /// Frames decapsulated.
    pub decapsulated: u64,
    /// Frames encapsulated.
    pub encapsulated: u64,
    /// Frames routed between bridges.
    pub routed: u64,
    /// ICMP errors sent (time exceeded, unreachable).
    pub icmp_errors: u64,
    /// ICMP errors suppressed by the rate limit (RFC 1812 §4.3.2.8).
    pub icmp_rate_limited: u64,
    /// Echo replies sent for SVI addresses.
    pub icmp_echo_replies: u64,
    /// ARP replies sent for SVI addresses.
    pub svi_arp_replies: u64,
    /// Frames whose source MAC was one of the switch's own (an SVI's): not learned, as
    /// Linux's bridge does not learn over a local address (`br_fdb_update`).
    pub own_mac_sources: u64,
}

/// A SHA-256 digest of what `Debug` prints of a piece of configuration: what a bridge was
/// built from, compared across applies to tell whether its cached flows must go (32 bytes
/// kept per bridge, whatever the size of what it covers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Signature([u8; 32]);

impl Signature {
    fn of(value: &impl std::fmt::Debug) -> Self {
        /// Feeds formatted text to the digest without building the string.
        struct Feed(ring::digest::Context);
        impl std::fmt::Write for Feed {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0.update(s.as_bytes());
                Ok(())
            }
        }
        let mut feed = Feed(ring::digest::Context::new(&ring::digest::SHA256));
        let _ = std::fmt::Write::write_fmt(&mut feed, format_args!("{value:?}"));
        let mut out = [0; 32];
        out.copy_from_slice(feed.0.finish().as_ref());
        Self(out)
    }
}

/// A trunk's VLANs as a bitmap: membership in constant time.
struct VlanSet([u64; 64]);

impl VlanSet {
    fn of(vlans: &[u16]) -> Self {
        let mut set = [0u64; 64];
        for &v in vlans {
            if let Some(word) = set.get_mut(usize::from(v / 64)) {
                *word |= 1 << (v % 64);
            }
        }
        Self(set)
    }

    fn contains(&self, vlan: u16) -> bool {
        self.0.get(usize::from(vlan / 64)).is_some_and(|w| w & (1 << (vlan % 64)) != 0)
    }
}

/// The switch: configuration, tables and counters. No I/O, no clock: time comes in as `now`.
#[derive(Debug)]
pub struct Switch {
    config: SwitchConfig,
    /// Grows with every applied configuration (reported; flows do not depend on it).
    generation: u64,
    /// Part of every flow entry; bumped only for changes that affect every flow.
    config_epoch: u64,
    /// Per bridge index: the configuration signature it was built from, and the largest
    /// epoch ever used at that index (a changed bridge gets a larger one).
    bridge_sigs: Vec<Signature>,
    epoch_floor: Vec<u64>,
    ports: Vec<Option<PortState>>,
    port_ids: HashMap<String, PortId>,
    /// Ids of removed ports with when they were freed, oldest first (see [`PORT_ID_REST`]).
    free_port_ids: VecDeque<(PortId, Instant)>,
    bridges: Vec<BridgeState>,
    by_vlan: VlanIndex,
    by_vni: FastMap<u32, u16>,
    local: Option<LocalVtep>,
    remotes: Vec<RemoteVtep>,
    remote_ids: FastMap<Ipv4Addr, u16>,
    neighbours: FastMap<Ipv4Addr, Neighbour>,
    mac: MacTable,
    flows: FlowCache,
    counters: SwitchCounters,
    svis: Vec<Svi>,
    /// The SVIs' MACs, sorted: the switch's own, never learned behind a port or VTEP.
    svi_macs: Vec<MacAddr>,
    /// Every SVI's IPv4 and IPv6 address and IPv4 subnet broadcast under its VRF's index: a
    /// routed packet asks whether it is for a gateway of its VRF, or comes from one of its
    /// addresses (a martian), with one lookup, not a walk over up to 8,192 SVIs.
    local_addrs: FastMap<(u16, IpAddr), l3::LocalAddr>,
    vrfs: Vec<Vrf>,
    l3_neigh: neigh::Neighbours,
    /// Per VRF index: bumped when one of its neighbours changes MAC or is forgotten, and
    /// raised above every other by an apply that changes what its routed verdicts are
    /// computed from (`apply_l3`: its signature, its index, a resolved neighbour dropped).
    /// Never shrinks, so the epoch at an index only grows.
    vrf_epochs: Vec<u64>,
    /// Per VRF index: the signature of its configuration and SVIs it was built from.
    vrf_sigs: Vec<Signature>,
}

/// Marks the epoch of a routed flow. A routed flow depends on its ingress and egress
/// bridges' MAC tables and its VRF ([`Epochs::routed`]), a bridged one on its bridge's
/// epoch; the numbers are unrelated, so the mark keeps a routed entry from ever matching a
/// bridged lookup of the same key (an SVI removed or added) or the reverse.
const ROUTED_EPOCH: u64 = 1 << 63;

/// The epoch a bridged flow of a bridge at `bridge_epoch` is stored under.
fn bridged_epoch(bridge_epoch: u64) -> u64 {
    bridge_epoch & !ROUTED_EPOCH
}

/// The epochs flow entries are checked against, borrowed beside the flow cache.
struct Epochs<'a> {
    config: u64,
    bridges: &'a [BridgeState],
    svis: &'a [Svi],
    vrfs: &'a [u64],
}

impl Epochs<'_> {
    /// The epoch a bridged flow of `bridge` is stored under; none once the bridge is gone.
    fn bridged(&self, bridge: u16) -> Option<u64> {
        self.bridges.get(usize::from(bridge)).map(|b| bridged_epoch(b.epoch))
    }

    /// The epoch a routed flow entering `bridge` with `verdict` is stored under: the sum of
    /// the epochs of what the verdict was computed from, the ingress bridge's MAC table (a
    /// hit learns no source, as for a bridged flow), the egress bridge's, and the VRF's
    /// neighbours, routes and SVIs. Each part only grows, so a change to any makes the sum
    /// differ, and a change elsewhere (another tenant's MACs, neighbours or configuration)
    /// leaves it; an apply that moves the ingress SVI's VRF to another index gives the VRF
    /// there an epoch above any used (`apply_l3`), so the sum grows then too. None once the
    /// bridge or its SVI is gone.
    fn routed(&self, bridge: u16, verdict: &Verdict) -> Option<u64> {
        let ingress = self.bridges.get(usize::from(bridge))?;
        let vrf = self.svis.get(usize::from(ingress.svi?))?.vrf;
        let egress = match verdict {
            Verdict::Route { bridge, .. } => self.bridges.get(usize::from(*bridge))?.epoch,
            Verdict::Drop(_) | Verdict::Forward(_) => 0,
        };
        let vrf = *self.vrfs.get(usize::from(vrf))?;
        Some(ingress.epoch.wrapping_add(egress).wrapping_add(vrf) | ROUTED_EPOCH)
    }

    /// Whether entry `e` of `key` is still valid. The routed mark keeps a routed and a
    /// bridged epoch from ever both matching.
    fn current(&self, key: &PackedKey, e: &FlowEntry) -> bool {
        let b = key.bridge();
        [self.routed(b, &e.verdict), self.bridged(b)]
            .into_iter()
            .any(|ep| ep.is_some_and(|ep| e.computed_under(self.config, ep)))
    }
}

/// The outer UDP source port for a frame of flow `key` sent to `outs`: the flow's entropy
/// when one of them is a VTEP (nothing else reads it).
fn entropy(key: &PackedKey, outs: &[Out]) -> u16 {
    if outs.iter().any(|o| matches!(o, Out::Vtep { .. })) { key.entropy() } else { 0 }
}

/// The ingress of a frame into a bridge.
#[derive(Debug, Clone, Copy)]
struct Ingress {
    port: PortId,
    from: Dest,
}

impl Switch {
    /// A switch running `config`.
    pub fn new(config: SwitchConfig, now: Instant) -> Result<Self, ConfigError> {
        let mut s = Switch {
            config: SwitchConfig::default(),
            generation: 0,
            config_epoch: 0,
            bridge_sigs: Vec::new(),
            epoch_floor: Vec::new(),
            ports: Vec::new(),
            port_ids: HashMap::new(),
            free_port_ids: VecDeque::new(),
            bridges: Vec::new(),
            by_vlan: VlanIndex::default(),
            by_vni: FastMap::default(),
            local: None,
            remotes: Vec::new(),
            remote_ids: FastMap::default(),
            neighbours: FastMap::default(),
            mac: MacTable::default(),
            flows: FlowCache::new(DEFAULT_CAPACITY),
            counters: SwitchCounters::default(),
            svis: Vec::new(),
            svi_macs: Vec::new(),
            local_addrs: FastMap::default(),
            vrfs: Vec::new(),
            l3_neigh: neigh::Neighbours::new(&[]),
            vrf_epochs: Vec::new(),
            vrf_sigs: Vec::new(),
        };
        s.apply(config, now)?;
        Ok(s)
    }

    /// The configuration in force.
    pub fn config(&self) -> &SwitchConfig {
        &self.config
    }

    /// Replaces the whole configuration (reconcile the whole, never a delta). An invalid one
    /// changes nothing. Ports keep their ids and counters across the change when their name
    /// stays, remote VTEPs their counters when their address stays; learned remote VTEPs
    /// stay while remote learning is on; learned MACs stay while their bridge and port or
    /// VTEP still exist; a flow entry goes stale only when what it was computed from changed
    /// (its bridges' signatures, its VRF's: `Epochs`).
    pub fn apply(&mut self, config: SwitchConfig, now: Instant) -> Result<(), ConfigError> {
        config.validate()?;
        // A VTEP whose MAC is not known yet (the service fills in the uplink's own, and the
        // uplink may not exist yet) is applied inactive, so the rest of the configuration
        // serves; the service applies it again once the MAC is known.
        let local_mac = match config.vtep.as_ref().and_then(|v| v.local_mac.as_deref()) {
            Some(m) => Some(parse_mac(m).ok_or_else(|| ConfigError::Invalid {
                field: "vtep.local_mac".into(),
                reason: "must be a unicast MAC aa:bb:cc:dd:ee:ff".into(),
            })?),
            None => None,
        };

        // Ports: same name, same id and counters. A new name takes the id of a port removed
        // at least PORT_ID_REST ago, else a fresh one; check that there are enough before
        // anything changes.
        let new_names =
            config.ports.iter().filter(|p| !self.port_ids.contains_key(&p.name)).count();
        let rested = self
            .free_port_ids
            .iter()
            .take_while(|(_, freed)| now.saturating_duration_since(*freed) >= PORT_ID_REST)
            .count();
        let fresh = usize::from(u16::MAX).saturating_sub(self.ports.len());
        if new_names > rested + fresh {
            return Err(ConfigError::Invalid {
                field: "ports".into(),
                reason: format!(
                    "port ids exhausted: ports removed in the last {} s still hold theirs; \
                     retry later",
                    PORT_ID_REST.as_secs()
                ),
            });
        }
        let mut old_ports: HashMap<String, (PortId, PortState)> = HashMap::new();
        for (i, slot) in self.ports.iter_mut().enumerate() {
            if let Some(p) = slot.take() {
                old_ports.insert(p.name.clone(), (PortId(i as u16), p));
            }
        }
        let mut port_ids = HashMap::new();
        for pc in &config.ports {
            let (id, counters) = match old_ports.remove(&pc.name) {
                Some((id, old)) => (id, old.counters),
                None => {
                    let reused = self
                        .free_port_ids
                        .front()
                        .filter(|(_, freed)| now.saturating_duration_since(*freed) >= PORT_ID_REST)
                        .map(|(id, _)| *id);
                    let id = match reused {
                        Some(id) => {
                            self.free_port_ids.pop_front();
                            id
                        }
                        None => {
                            // Bounded by the check above.
                            let n = u16::try_from(self.ports.len()).unwrap_or(u16::MAX);
                            self.ports.push(None);
                            PortId(n)
                        }
                    };
                    (id, PortCounters::default())
                }
            };
            port_ids.insert(pc.name.clone(), id);
            if let Some(slot) = self.ports.get_mut(usize::from(id.0)) {
                *slot = Some(PortState {
                    name: pc.name.clone(),
                    mode: pc.mode.clone(),
                    mtu: pc.mtu,
                    admin_up: pc.admin_up,
                    counters,
                });
            }
        }
        let mut removed: Vec<PortId> = old_ports.into_values().map(|(id, _)| id).collect();
        removed.sort();
        self.free_port_ids.extend(removed.into_iter().map(|id| (id, now)));

        // Local VTEP and remote VTEPs (learned ones survive).
        let local = config.vtep.as_ref().zip(local_mac).and_then(|(v, mac)| {
            Some(LocalVtep {
                uplink: *port_ids.get(&v.uplink)?,
                ip: v.local_ip,
                mac,
                prefix_len: v.prefix_len,
                gateway: v.gateway,
                udp_checksum: v.udp_checksum,
                ttl: v.ttl,
                learn_remotes: v.learn_remotes,
            })
        });
        let old_remotes = std::mem::take(&mut self.remotes);
        // What a remote keeps while its address stays (as a port by name): its counters,
        // and the encapsulation of one only static MACs name.
        let old_by_ip: HashMap<Ipv4Addr, &RemoteVtep> =
            old_remotes.iter().map(|r| (r.ip, r)).collect();
        self.remote_ids.clear();
        if let (Some(l), Some(v)) = (&local, &config.vtep) {
            // Within the validated bounds every remote gets a number; one that did not would
            // be left out, never given another's. All are numbered here, before the bridges'
            // signatures, which hold the whole table: a cached flow names a remote by its
            // number, so a renumbering (a static MAC of another bridge added or removed in
            // front) must make every overlay bridge's flows stale. Configured remotes come
            // first, then those only static MACs name, then learned ones, so that a learned
            // one ageing out renumbers only learned ones.
            for r in &v.remotes {
                let _ = self.push_remote(l, r.ip, r.encap, false, r.vnis.clone(), now);
            }
            for s in config.static_macs.iter().filter(|s| s.port.is_none()) {
                if let Some(ip) = s.vtep
                    && !self.remote_ids.contains_key(&ip)
                {
                    // A static MAC says nothing of the encapsulation: a remote learned from
                    // Geneve stays Geneve, while one a configuration said was Geneve is VXLAN
                    // once no configuration says so. Named by the configuration now, it no
                    // longer ages (and goes with the last static MAC naming it, to be
                    // learned again).
                    let seen = old_by_ip.get(&ip).filter(|r| r.encap_seen).map(|r| r.encap);
                    let encap = seen.unwrap_or(Encap::Vxlan);
                    if let Some(id) = self.push_remote(l, ip, encap, false, Vec::new(), now) {
                        self.remotes[usize::from(id)].encap_seen = seen.is_some();
                    }
                }
            }
            // With learning off only configured remotes are accepted (as Linux's VXLAN
            // `nolearning` stops using learned entries): the learned ones go, and the MACs
            // behind them with them (below).
            for r in old_remotes.iter().filter(|r| r.learned && l.learn_remotes) {
                if !self.remote_ids.contains_key(&r.ip) {
                    let _ = self.push_remote(l, r.ip, r.encap, true, Vec::new(), r.last_seen);
                }
            }
        }
        for r in &mut self.remotes {
            if let Some(old) = old_by_ip.get(&r.ip) {
                (r.tx_packets, r.rx_packets) = (old.tx_packets, old.rx_packets);
            }
        }

        // Bridges, keyed by name across the change. A bridge keeps its epoch (and so its
        // cached flows) only when it sits at the same index with the same signature: its own
        // configuration, its members' port configuration and, for an overlay bridge, the VTEP
        // configuration and remote table.
        let old_names: Vec<String> = self.bridges.iter().map(|b| b.name.clone()).collect();
        let old_epochs: Vec<u64> = self.bridges.iter().map(|b| b.epoch).collect();
        let old_sigs = std::mem::take(&mut self.bridge_sigs);
        for (i, e) in old_epochs.iter().enumerate() {
            if let Some(f) = self.epoch_floor.get_mut(i) {
                *f = (*f).max(*e);
            } else {
                self.epoch_floor.push(*e);
            }
        }
        self.bridges.clear();
        self.by_vlan.clear();
        self.by_vni.clear();
        // What every bridge's signature shares, taken once per configuration (not once per
        // bridge: a trunk's VLAN list or the remote table may be long): each port's
        // configuration and trunk VLANs, the VTEP's with the remote table, the static MACs
        // by bridge.
        let port_sigs: HashMap<PortId, Signature> = config
            .ports
            .iter()
            .filter_map(|p| Some((*port_ids.get(&p.name)?, Signature::of(p))))
            .collect();
        let trunk_vlans: HashMap<&str, VlanSet> = config
            .ports
            .iter()
            .filter_map(|p| match &p.mode {
                PortMode::Trunk { vlans, .. } => Some((p.name.as_str(), VlanSet::of(vlans))),
                _ => None,
            })
            .collect();
        let overlay_sig = {
            let remotes: Vec<_> = self.remotes.iter().map(|r| (r.ip, r.encap, &r.vnis)).collect();
            Signature::of(&(&config.vtep, remotes))
        };
        let mut statics_of: HashMap<&str, Vec<_>> = HashMap::new();
        for m in &config.static_macs {
            statics_of.entry(m.bridge.as_str()).or_default().push(m);
        }
        for (i, bc) in config.bridges.iter().enumerate() {
            let idx = i as u16;
            let mut members = Vec::new();
            for pc in &config.ports {
                let Some(id) = port_ids.get(&pc.name) else { continue };
                let tag = match (&pc.mode, bc.vlan) {
                    (PortMode::Access { vlan }, Some(b)) if *vlan == b => Some(None),
                    (PortMode::Trunk { native_vlan: Some(n), .. }, Some(b)) if *n == b => {
                        Some(None)
                    }
                    (PortMode::Trunk { .. }, Some(b))
                        if trunk_vlans.get(pc.name.as_str()).is_some_and(|v| v.contains(b)) =>
                    {
                        Some(Some(b))
                    }
                    _ => None,
                };
                if let Some(tag) = tag {
                    members.push((*id, tag));
                }
            }
            let flood = bc
                .vni
                .map(|vni| {
                    self.remotes
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.vnis.contains(&vni))
                        .filter_map(|(i, _)| u16::try_from(i).ok())
                        .collect()
                })
                .unwrap_or_default();
            let port_state: Vec<_> =
                members.iter().map(|(id, tag)| (id, tag, port_sigs.get(id))).collect();
            let statics = statics_of.get(bc.name.as_str());
            let overlay = bc.vni.is_some().then_some(&overlay_sig);
            let sig = Signature::of(&(bc, port_state, statics, overlay));
            let epoch = if old_names.get(i) == Some(&bc.name) && old_sigs.get(i) == Some(&sig) {
                old_epochs.get(i).copied().unwrap_or(0)
            } else {
                self.epoch_floor.get(i).map_or(0, |f| f + 1)
            };
            if let Some(f) = self.epoch_floor.get_mut(i) {
                *f = (*f).max(epoch);
            } else {
                self.epoch_floor.push(epoch);
            }
            self.bridge_sigs.push(sig);
            if let Some(v) = bc.vlan {
                self.by_vlan.insert(v, idx);
            }
            if let Some(v) = bc.vni {
                self.by_vni.insert(v, idx);
            }
            self.bridges.push(BridgeState {
                name: bc.name.clone(),
                vlan: bc.vlan,
                vni: bc.vni,
                ageing: Duration::from_secs(u64::from(bc.ageing_secs)),
                mac_limit: bc.mac_limit,
                epoch,
                members,
                flood,
                svi: None,
            });
        }

        // MAC table: keep learned entries that still make sense, then the static ones.
        let new_index: HashMap<&str, u16> =
            config.bridges.iter().enumerate().map(|(i, b)| (b.name.as_str(), i as u16)).collect();
        // A MAC that is now an SVI's own is no longer a host's (as Linux replaces a learned
        // entry with the local one).
        let svi_macs: Vec<MacAddr> = config
            .bridges
            .iter()
            .filter_map(|b| b.svi.as_ref().and_then(|s| parse_mac(&s.mac)))
            .collect();
        // Learned entries each remaining bridge had: one that keeps fewer goes to a new
        // epoch, since its cached flows may unicast to an address it no longer holds and its
        // signature need not have changed (another bridge's new SVI took the MAC).
        let mut had: HashMap<u16, u32> = HashMap::new();
        // Put back in the order they were last seen, not the table's hash order: re-learning
        // rebuilds each destination's eviction order, which must stay oldest first (the
        // `mac_limit` eviction, docs/api.md).
        let mut learned = self.mac.drain();
        learned.sort_by_key(|(.., e)| e.last_seen);
        for (b, mac, e) in learned {
            if e.is_static {
                continue;
            }
            let Some(&nb) = old_names.get(usize::from(b)).and_then(|n| new_index.get(n.as_str()))
            else {
                continue;
            };
            *had.entry(nb).or_default() += 1;
            if svi_macs.contains(&mac) {
                continue;
            }
            let valid = match e.dest {
                Dest::Port(p) => self.bridges[usize::from(nb)].members.iter().any(|(m, _)| *m == p),
                Dest::Vtep(ip) => {
                    self.bridges[usize::from(nb)].vni.is_some() && self.remote_ids.contains_key(&ip)
                }
            };
            if valid {
                let limit = self.bridges[usize::from(nb)].mac_limit;
                self.mac.learn(nb, mac, e.dest, e.last_seen, limit);
            }
        }
        for (nb, n) in had {
            if self.mac.learned_in(nb) < n
                && let Some(br) = self.bridges.get_mut(usize::from(nb))
            {
                br.epoch += 1;
            }
        }
        for s in &config.static_macs {
            let (Some(&b), Some(mac)) = (new_index.get(s.bridge.as_str()), parse_mac(&s.mac))
            else {
                continue;
            };
            let dest = match (&s.port, s.vtep) {
                (Some(p), _) => port_ids.get(p).map(|id| Dest::Port(*id)),
                // Numbered with the remote table above (an inactive VTEP numbers none).
                (None, Some(ip)) => {
                    (local.is_none() || self.remote_ids.contains_key(&ip)).then_some(Dest::Vtep(ip))
                }
                (None, None) => None,
            };
            if let Some(dest) = dest {
                self.mac.insert_static(b, mac, dest, now);
            }
        }

        // Where each old bridge index went (by name), for what is kept per bridge.
        let moved: HashMap<u16, u16> = old_names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((i as u16, *new_index.get(n.as_str())?)))
            .collect();
        self.apply_l3(&config, &moved);
        let capacity = if config.flow_cache_size == 0 {
            DEFAULT_CAPACITY
        } else {
            config.flow_cache_size as usize
        };
        // Entries above a lowered capacity go at the next tick's sweep, in one pass, not
        // inside the install of a frame.
        self.flows.set_capacity(capacity);
        self.neighbours.retain(|ip, _| self.remotes.iter().any(|r| r.next_hop == *ip));
        self.port_ids = port_ids;
        self.local = local;
        self.config = config;
        self.generation += 1;
        Ok(())
    }

    fn push_remote(
        &mut self,
        local: &LocalVtep,
        ip: Ipv4Addr,
        encap: Encap,
        learned: bool,
        vnis: Vec<u32>,
        seen: Instant,
    ) -> Option<u16> {
        // A flow or flood list holds the number, not the address: a wrapped number would
        // send one remote's frames to another, so past 16 bits there is none.
        let id = u16::try_from(self.remotes.len()).ok()?;
        self.remotes.push(RemoteVtep {
            ip,
            encap,
            next_hop: local.next_hop(ip),
            learned,
            encap_seen: learned,
            vnis,
            tx_packets: 0,
            rx_packets: 0,
            last_seen: seen,
        });
        self.remote_ids.insert(ip, id);
        Some(id)
    }

    /// The id of the port named `name`.
    pub fn port_id(&self, name: &str) -> Option<PortId> {
        self.port_ids.get(name).copied()
    }

    /// Grows with every applied configuration: what a reader took from one (the ports a
    /// worker serves) is current while this stays the same.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// `(id, name, MTU)` of every port, by id, in one pass.
    pub fn port_specs(&self) -> Vec<(PortId, String, u16)> {
        (0u16..)
            .zip(&self.ports)
            .filter_map(|(id, p)| p.as_ref().map(|p| (PortId(id), p.name.clone(), p.mtu)))
            .collect()
    }

    /// `(id, name)` of every port.
    pub fn port_names(&self) -> Vec<(PortId, String)> {
        let mut v: Vec<_> = self.port_ids.iter().map(|(n, id)| (*id, n.clone())).collect();
        v.sort();
        v
    }

    /// Counters of one port.
    pub fn port_counters(&self, id: PortId) -> Option<&PortCounters> {
        self.port(id).map(|p| &p.counters)
    }

    /// Counts the frames port `id` could not send in its `tx_dropped` only: they leave its
    /// `tx_packets` and `tx_bytes`, where the pipeline counted them on handing them over,
    /// as Linux and Open vSwitch count an interface's. Saturating: the port may be a new
    /// one under a removed port's id, which counted none of them.
    pub fn count_tx_dropped(&mut self, id: PortId, dropped: TxDrops) {
        if let Some(p) = self.port_mut(id) {
            let c = &mut p.counters;
            c.tx_dropped += dropped.frames;
            c.tx_packets = c.tx_packets.saturating_sub(dropped.segments);
            c.tx_bytes = c.tx_bytes.saturating_sub(dropped.bytes);
        }
    }

    fn port(&self, id: PortId) -> Option<&PortState> {
        self.ports.get(usize::from(id.0)).and_then(Option::as_ref)
    }

    fn port_mut(&mut self, id: PortId) -> Option<&mut PortState> {
        self.ports.get_mut(usize::from(id.0)).and_then(Option::as_mut)
    }

    /// Counts a frame received on `port` and dropped before any output.
    fn count_drop(&mut self, port: PortId, reason: DropReason) {
        if let Some(p) = self.port_mut(port) {
            p.counters.drops.add(reason);
        }
    }

    /// Counts a frame meant for `port` that the pipeline dropped on its way out: not sent,
    /// so in the port's `tx_dropped` (as Linux counts a frame sent to a down interface,
    /// and Open vSwitch one over the MTU), never in the received frames' `drops`.
    fn count_tx_drop(&mut self, port: PortId, reason: DropReason) {
        if let Some(p) = self.port_mut(port) {
            p.counters.tx_dropped += 1;
            p.counters.tx_drops.add(reason);
        }
    }

    // Inlined, as `port_rx`, `output` and `output_port`: each is on every cached frame's
    // path, and a call moved the frame's buffer through one more stack frame (callgrind:
    // 870 -> 832 instructions per cached L2 frame for the four).
    #[inline(always)]
    fn send(&mut self, port: PortId, buf: PacketBuf, out: &mut Vec<Tx>) {
        if let Some(p) = self.port_mut(port) {
            p.counters.tx_packets += buf.segments();
            p.counters.tx_bytes += buf.wire_bytes();
            out.push(Tx { port, buf });
        }
    }

    /// Cuts the TCP super-frame `buf` into its segments and hands each to `then`, for a
    /// path that cannot carry it whole (an overlay, a VLAN tag pushed, the uplink's own
    /// processing). One that does not parse as a super-frame goes on as a plain frame, to
    /// meet the MTU check like any oversized frame.
    fn for_each_segment(
        &mut self,
        mut buf: PacketBuf,
        out: &mut Vec<Tx>,
        mut then: impl FnMut(&mut Self, PacketBuf, &mut Vec<Tx>),
    ) {
        let mut segments = Vec::new();
        if crate::offload::segment(&buf, |s| segments.push(s)) {
            segments.into_iter().for_each(|s| then(self, s, out));
        } else {
            buf.set_gso(None);
            then(self, buf, out);
        }
    }

    /// Processes a burst: every frame of `rx` (drained) is dropped or turned into frames
    /// appended to `out`.
    pub fn process(&mut self, now: Instant, rx: &mut Vec<Rx>, out: &mut Vec<Tx>) {
        for r in rx.drain(..) {
            self.process_one(now, r, out);
        }
    }

    /// Processes one frame.
    pub fn process_one(&mut self, now: Instant, rx: Rx, out: &mut Vec<Tx>) {
        let Rx { port, buf } = rx;
        let Some(p) = self.port_mut(port) else {
            self.counters.unknown_port += 1;
            return;
        };
        let uplink = matches!(p.mode, PortMode::Uplink);
        if uplink && buf.gso().is_some() {
            // The uplink decapsulates and answers frame by frame.
            return self.for_each_segment(buf, out, |sw, s, out| {
                sw.process_one(now, Rx { port, buf: s }, out)
            });
        }
        let (segments, bytes) = (buf.segments(), buf.wire_bytes());
        p.counters.rx_packets += segments;
        p.counters.rx_bytes += bytes;
        if !p.admin_up {
            return self.count_drop(port, DropReason::PortDown);
        }
        let mtu = usize::from(p.mtu);
        // Plain TCP/UDP frames on a local port skip the full dissection: only the key's
        // fields are read (same key, same checks; anything else takes `dissect`).
        if !uplink && let Some(plain) = fastkey::extract(buf.frame()) {
            if buf.wire_len() - plain.payload_offset > mtu {
                return self.count_drop(port, DropReason::MtuExceeded);
            }
            let tags = Tags { count: usize::from(plain.tag.is_some()), outer: plain.tag };
            let key = |bridge, tagged| PackedKey::from_plain(port, None, tagged, bridge, &plain);
            return self.port_rx(now, port, buf, tags, key, out);
        }
        let info = match dissect(buf.frame()) {
            Ok(i) => i,
            Err(e) => return self.count_drop(port, e.into()),
        };
        if buf.wire_len() - info.l2.payload_offset > mtu {
            return self.count_drop(port, DropReason::MtuExceeded);
        }
        if uplink {
            self.uplink_rx(now, port, buf, &info, out);
        } else {
            let tags = Tags::of(&info.l2.vlans);
            let key =
                |bridge, tagged| PackedKey::pack(&FlowKey::new(port, None, tagged, bridge, &info));
            self.port_rx(now, port, buf, tags, key, out);
        }
    }

    /// A frame from a local port: VLAN classification, then `key(bridge, tagged)` is
    /// forwarded.
    #[inline(always)]
    fn port_rx(
        &mut self,
        now: Instant,
        port: PortId,
        buf: PacketBuf,
        tags: Tags,
        key: impl FnOnce(u16, bool) -> PackedKey,
        out: &mut Vec<Tx>,
    ) {
        let Some(p) = self.port(port) else { return };
        let (vlan, tagged) = match classify(&p.mode, tags) {
            Ok(v) => v,
            Err(r) => return self.count_drop(port, r),
        };
        let Some(bridge) = self.by_vlan.get(vlan) else {
            return self.count_drop(port, DropReason::NoBridge);
        };
        let key = key(bridge, tagged);
        self.forward(now, key, Ingress { port, from: Dest::Port(port) }, buf, out);
    }

    fn forward(
        &mut self,
        now: Instant,
        key: PackedKey,
        ingress: Ingress,
        mut buf: PacketBuf,
        out: &mut Vec<Tx>,
    ) {
        let src = key.src();
        if src.is_multicast() || src == MacAddr::ZERO {
            return self.count_drop(ingress.port, DropReason::BadSrcMac);
        }
        let (bridge, dst, ethertype) = (key.bridge(), key.dst(), key.ethertype());
        let b = usize::from(bridge);
        let Some((bridge_epoch, svi)) = self.bridges.get(b).map(|br| (br.epoch, br.svi)) else {
            return self.count_drop(ingress.port, DropReason::NoBridge);
        };
        let to_svi_mac =
            svi.is_some_and(|si| self.svis.get(usize::from(si)).is_some_and(|s| s.mac == dst));
        // The SVI's own traffic (ARP for the gateway, ICMPv6 neighbour discovery, packets to
        // the gateway address) is consumed here and never cached. Anything else (most
        // frames) cannot be, and skips the check.
        let maybe_control = to_svi_mac
            || ethertype == EtherType::ARP.0
            || (ethertype == EtherType::IPV6.0 && key.protocol() == IpProtocol::ICMPV6.0);
        if maybe_control
            && let Some(si) = svi
            && self.svi_control(now, si, &key.unpack(), &mut buf, ingress, out)
        {
            return;
        }
        let routed =
            to_svi_mac && (ethertype == EtherType::IPV4.0 || ethertype == EtherType::IPV6.0);
        // A Linux bridge hands a frame to its own MAC to its local stack, never floods it;
        // the SVI speaks only IP and ARP, so any other protocol to it ends here.
        if to_svi_mac && !routed && ethertype != EtherType::ARP.0 {
            return self.count_drop(ingress.port, DropReason::NotForUs);
        }
        let len = buf.len();
        // A hit with a single output (most flows) yields that output, small enough to come
        // back in registers; any other verdict is cloned into `verdict`. Moving a whole
        // verdict through the stack and reading it back wide was a store-forwarding stall.
        let mut verdict = None;
        let (flows, _, ep) = self.flow_parts();
        let epoch = |v: &Verdict| {
            if routed { ep.routed(bridge, v) } else { Some(bridged_epoch(bridge_epoch)) }
        };
        let hit = flows.lookup(&key, ep.config, epoch, now, len, |v| match v {
            Verdict::Forward(Outs::One(o)) => Some(*o),
            v => {
                verdict = Some(v.clone());
                None
            }
        });
        let single = match hit {
            // A hit leaves the source MAC's age to the flow sweep ([`Switch::tick`]).
            Some(single) => single,
            None => {
                // The slow path reads the key's fields.
                let full = key.unpack();
                self.learn(bridge, src, ingress.from, now);
                let new = match (routed, svi) {
                    (true, Some(si)) => match self.route(&full, si) {
                        Ok(v) => v,
                        Err(miss) => return self.l3_miss(now, miss, si, &full, buf, ingress, out),
                    },
                    _ => self.decide(&full, ingress),
                };
                let (flows, _, ep) = self.flow_parts();
                let epoch = if routed { ep.routed(bridge, &new) } else { ep.bridged(bridge) };
                if let Some(epoch) = epoch {
                    flows.insert(key, new.clone(), ep.config, epoch, now, len);
                }
                verdict = Some(new);
                None
            }
        };
        if let Some(Verdict::Drop(r)) = verdict {
            return self.count_drop(ingress.port, r);
        }
        if key.tagged() {
            match ethernet::pop_vlan(buf.frame_mut(), len) {
                Ok(Some((tag, n))) => {
                    buf.set_len(n);
                    buf.set_pcp(tag.pcp);
                }
                Ok(None) => {}
                Err(e) => return self.count_drop(ingress.port, e.into()),
            }
        }
        if let Some(o) = single {
            return self.output(now, o, entropy(&key, &[o]), buf, out);
        }
        let outs = match verdict {
            Some(Verdict::Route { src_mac, dst_mac, outs, .. }) => {
                // Routed flows enter through their bridge's SVI (a bridge that lost its SVI
                // has a new epoch, so its routed entries no longer hit).
                let Some(ingress_svi) = svi else {
                    return self.count_drop(ingress.port, DropReason::NoRoute);
                };
                // The next link's MTU, what a router checks after the TTL and header and
                // before the TTL is decremented (Linux's ip_forward order): an expired or
                // corrupt packet gets no "fragmentation needed", and that error quotes the
                // packet as received.
                let mtu = self.path_mtu(&outs).filter(|mtu| {
                    buf.wire_len().saturating_sub(ethernet::HEADER_LEN) > usize::from(*mtu)
                });
                match self.rewrite_routed(&mut buf, mtu.is_none()) {
                    Ok(()) => {}
                    Err(dpu_wire::Error::TtlExpired) => {
                        // RFC 1812 §5.3.1: discard, and send time exceeded (code 0).
                        let kind = IcmpKind::TimeExceeded;
                        self.icmp_error(now, ingress_svi, &key.unpack(), &buf, kind, out);
                        return self.count_drop(ingress.port, dpu_wire::Error::TtlExpired.into());
                    }
                    Err(e) => return self.count_drop(ingress.port, e.into()),
                }
                // We never fragment: IPv4 with DF and IPv6 get the ICMP error that drives
                // path-MTU discovery; IPv4 without DF is dropped and counted.
                if let Some(mtu) = mtu {
                    let df = buf.frame().get(20).is_some_and(|b| b & 0x40 != 0);
                    if ethertype == EtherType::IPV6.0 || df {
                        let kind = IcmpKind::TooBig { mtu };
                        self.icmp_error(now, ingress_svi, &key.unpack(), &buf, kind, out);
                    }
                    return self.count_drop(ingress.port, DropReason::MtuExceeded);
                }
                let f = buf.frame_mut();
                f[0..6].copy_from_slice(&dst_mac.0);
                f[6..12].copy_from_slice(&src_mac.0);
                outs
            }
            Some(Verdict::Forward(outs)) => outs,
            // `None` cannot happen: without a single output, `verdict` was set.
            Some(Verdict::Drop(_)) | None => return,
        };
        self.emit(now, &outs, entropy(&key, &outs), buf, out);
    }

    /// Sends copies of `buf` to `outs`.
    fn emit(
        &mut self,
        now: Instant,
        outs: &[Out],
        entropy: u16,
        buf: PacketBuf,
        out: &mut Vec<Tx>,
    ) {
        // The last output takes the buffer itself: a unicast frame is never copied.
        let Some((last, others)) = outs.split_last() else { return };
        for o in others {
            self.output(now, *o, entropy, buf.clone(), out);
        }
        self.output(now, *last, entropy, buf, out);
    }

    #[inline(always)]
    fn output(&mut self, now: Instant, o: Out, entropy: u16, buf: PacketBuf, out: &mut Vec<Tx>) {
        match o {
            Out::Port { port, tag } => self.output_port(port, tag, buf, out),
            Out::Vtep { vtep, vni } => self.output_vtep(now, vtep, vni, entropy, buf, out),
        }
    }

    fn learn(&mut self, bridge: u16, mac: MacAddr, from: Dest, now: Instant) {
        // A host using the gateway's MAC as its source would take the gateway's address
        // over in the MAC table; Linux's bridge keeps its local entry and warns
        // (`br_fdb_update`), and forwards the frame: so do we, counting it.
        if self.svi_macs.binary_search(&mac).is_ok() {
            self.counters.own_mac_sources += 1;
            return;
        }
        let Some(br) = self.bridges.get_mut(usize::from(bridge)) else { return };
        match self.mac.learn(bridge, mac, from, now, br.mac_limit) {
            Learned::New | Learned::Moved => {
                br.epoch += 1;
            }
            Learned::LimitReached => self.counters.mac_limit_hits += 1,
            Learned::Refreshed | Learned::Static => {}
        }
    }

    /// The slow path: where frames of this flow go.
    fn decide(&self, key: &FlowKey, ingress: Ingress) -> Verdict {
        let Some(br) = self.bridges.get(usize::from(key.bridge)) else {
            return Verdict::Drop(DropReason::NoBridge);
        };
        // IEEE 802.1Q Table 8-1: a bridge forwards nothing to these (Linux keeps them
        // local unless group_fwd_mask says otherwise; OVS drops them by default).
        if key.dst.0[..5] == [0x01, 0x80, 0xC2, 0x00, 0x00] && key.dst.0[5] <= 0x0F {
            return Verdict::Drop(DropReason::ReservedGroup);
        }
        if !key.dst.is_multicast()
            && let Some(dest) = self.mac.lookup(key.bridge, key.dst)
        {
            if dest == ingress.from {
                return Verdict::Drop(DropReason::SamePort);
            }
            let out = match dest {
                Dest::Port(p) => br
                    .members
                    .iter()
                    .find(|(m, _)| *m == p)
                    .map(|(m, tag)| Out::Port { port: *m, tag: *tag }),
                Dest::Vtep(ip) => match (br.vni, &ingress.from) {
                    // Split horizon: overlay to overlay never.
                    (_, Dest::Vtep(_)) => return Verdict::Drop(DropReason::SamePort),
                    (Some(vni), _) => self.remote_ids.get(&ip).map(|&vtep| Out::Vtep { vtep, vni }),
                    (None, _) => None,
                },
            };
            if let Some(out) = out {
                return Verdict::Forward(Outs::one(out));
            }
        }
        // Flood (broadcast, multicast, unknown unicast).
        let mut outs: Vec<Out> = br
            .members
            .iter()
            .filter(|(p, _)| Dest::Port(*p) != ingress.from)
            .filter(|(p, _)| self.port(*p).is_some_and(|s| s.admin_up))
            .map(|(p, tag)| Out::Port { port: *p, tag: *tag })
            .collect();
        if let (Some(vni), Dest::Port(_)) = (br.vni, ingress.from) {
            outs.extend(br.flood.iter().map(|&vtep| Out::Vtep { vtep, vni }));
        }
        Verdict::Forward(Outs::from(outs))
    }

    #[inline(always)]
    fn output_port(
        &mut self,
        port: PortId,
        tag: Option<u16>,
        mut buf: PacketBuf,
        out: &mut Vec<Tx>,
    ) {
        let Some(p) = self.port(port) else { return };
        if !p.admin_up {
            return self.count_tx_drop(port, DropReason::PortDown);
        }
        if buf.wire_len().saturating_sub(ethernet::HEADER_LEN) > usize::from(p.mtu) {
            return self.count_tx_drop(port, DropReason::MtuExceeded);
        }
        if tag.is_some() && buf.gso().is_some() {
            // The kernel reads a TCP segmentation request against the frame's EtherType,
            // which a tag hides: a tagged frame leaves segmented.
            let pcp = buf.pcp();
            return self.for_each_segment(buf, out, |sw, mut s, out| {
                s.set_pcp(pcp);
                sw.output_port(port, tag, s, out)
            });
        }
        if let Some(vid) = tag {
            let len = buf.len();
            let tag = ethernet::VlanTag { pcp: buf.pcp(), ..ethernet::VlanTag::c_tag(vid) };
            match ethernet::push_vlan(buf.with_tail(ethernet::VLAN_TAG_LEN), len, tag) {
                Ok(n) => {
                    buf.set_len(n);
                }
                Err(e) => return self.count_tx_drop(port, e.into()),
            }
        }
        self.send(port, buf, out);
    }

    fn output_vtep(
        &mut self,
        now: Instant,
        vtep: u16,
        vni: u32,
        entropy: u16,
        mut buf: PacketBuf,
        out: &mut Vec<Tx>,
    ) {
        let Some(local) = &self.local else { return };
        let uplink = local.uplink;
        if !self.uplink_up(uplink) {
            return self.count_tx_drop(uplink, DropReason::PortDown);
        }
        if buf.gso().is_some() {
            // An encapsulated segment's checksum is an inner one no device completes, and the
            // outer packet must fit the uplink: overlay traffic leaves segmented.
            return self.for_each_segment(buf, out, |sw, s, out| {
                sw.output_vtep(now, vtep, vni, entropy, s, out)
            });
        }
        // A flow names its remote by number and goes stale when the numbering changes, so
        // a number without a remote is a bug to count, never a silent loss.
        let Some(remote) = self.remotes.get(usize::from(vtep)) else {
            return self.count_tx_drop(uplink, DropReason::UnknownVtep);
        };
        let (dst, next_hop, encap) = (remote.ip, remote.next_hop, remote.encap);
        let Some(dst_mac) = self.neighbours.get(&next_hop).and_then(|n| n.mac) else {
            self.resolve(now, next_hop, out);
            return self.count_tx_drop(uplink, DropReason::NeighbourUnresolved);
        };
        let Some(local) = &self.local else { return };
        let underlay = Underlay {
            dst_mac,
            src_mac: local.mac,
            vlan: None,
            addrs: UnderlayAddrs::V4 { src: local.ip, dst },
            ttl: local.ttl,
            // The outer ECN field copies the inner one (`encapsulate`, RFC 6040 §4.1).
            dscp: 0,
            src_port: entropy,
            udp_checksum_v4: local.udp_checksum,
        };
        let tunnel = match encap {
            Encap::Vxlan => Tunnel::Vxlan { vni },
            Encap::Geneve => Tunnel::Geneve { vni, oam: false, options: &[] },
        };
        let hl = encap::header_len(&underlay, &tunnel);
        let inner_len = buf.len();
        // RFC 7348 §4.3: VTEPs MUST NOT fragment; the outer packet must fit the uplink MTU.
        let outer_ip_len = hl - ethernet::HEADER_LEN + inner_len;
        if self.port(uplink).is_none_or(|p| outer_ip_len > usize::from(p.mtu)) {
            return self.count_tx_drop(uplink, DropReason::MtuExceeded);
        }
        // A checksum left to offload would become the inner one, which no device completes.
        buf.complete_csum();
        if !buf.push_front(hl) {
            return self.count_tx_drop(uplink, dpu_wire::Error::BufferTooSmall.into());
        }
        if let Err(e) = encap::encapsulate(buf.frame_mut(), &underlay, &tunnel, inner_len) {
            return self.count_tx_drop(uplink, e.into());
        }
        if let Some(r) = self.remotes.get_mut(usize::from(vtep)) {
            r.tx_packets += 1;
        }
        self.counters.encapsulated += 1;
        self.send(uplink, buf, out);
    }

    /// Whether the uplink is administratively up: a down port neither receives nor sends
    /// (`PortConfig::admin_up`), the switch's own frames on it (encapsulated, ARP) included.
    fn uplink_up(&self, uplink: PortId) -> bool {
        self.port(uplink).is_some_and(|p| p.admin_up)
    }

    /// Sends an ARP request for `ip` unless one went out within [`ARP_RETRY`]; on a down
    /// uplink, counts a port-down drop instead.
    fn resolve(&mut self, now: Instant, ip: Ipv4Addr, out: &mut Vec<Tx>) {
        let Some(uplink) = self.local.as_ref().map(|l| l.uplink) else { return };
        if !self.uplink_up(uplink) {
            return self.count_tx_drop(uplink, DropReason::PortDown);
        }
        let n = self.neighbours.entry(ip).or_insert(Neighbour::new(now));
        if n.last_request.is_some_and(|t| now.saturating_duration_since(t) < ARP_RETRY) {
            return;
        }
        n.last_request = Some(now);
        self.send_underlay_arp(ip, MacAddr::BROADCAST, out);
    }

    /// Ages the resolved underlay next hops as the SVIs' neighbours ([`neigh::ageing`]):
    /// one quiet for [`l3::NEIGHBOUR_REACHABLE`] is asked by unicast, and forgotten (then
    /// asked for by broadcast, as any unresolved one) after its probes went unanswered; a
    /// gateway replaced without a gratuitous ARP is found again.
    fn age_underlay_neighbours(&mut self, now: Instant, out: &mut Vec<Tx>) {
        let mut probes = Vec::new();
        self.neighbours.retain(|&ip, n| {
            let Some(mac) = n.mac else { return true };
            match neigh::ageing(now, n.updated, n.last_request, n.probes) {
                neigh::Ageing::Forget => return false,
                neigh::Ageing::Probe => {
                    n.last_request = Some(now);
                    n.probes += 1;
                    probes.push((ip, mac));
                }
                neigh::Ageing::Keep => {}
            }
            true
        });
        for (ip, mac) in probes {
            self.send_underlay_arp(ip, mac, out);
        }
    }

    /// Sends an ARP request for `ip` to `dst` (broadcast, or the MAC it had) on the uplink,
    /// unless the uplink is down (counted there).
    fn send_underlay_arp(&mut self, ip: Ipv4Addr, dst: MacAddr, out: &mut Vec<Tx>) {
        let Some(local) = &self.local else { return };
        let (uplink, mac, own_ip) = (local.uplink, local.mac, local.ip);
        if !self.uplink_up(uplink) {
            return self.count_tx_drop(uplink, DropReason::PortDown);
        }
        let mut buf = PacketBuf::from_frame(&[]);
        let eth = EthernetRepr { dst, src: mac, vlans: &[], ethertype: EtherType::ARP };
        let req = ArpRepr {
            operation: ArpOperation::REQUEST,
            sender_mac: mac,
            sender_ip: own_ip,
            target_mac: MacAddr::ZERO,
            target_ip: ip,
        };
        let mut ok = false;
        buf.refill(MIN_FRAME, |f| {
            f.fill(0);
            ok = eth.emit(f).and_then(|hl| req.emit(&mut f[hl..])).is_ok();
        });
        if ok {
            self.counters.arp_requests += 1;
            self.send(uplink, buf, out);
        }
    }

    fn uplink_rx(
        &mut self,
        now: Instant,
        port: PortId,
        mut buf: PacketBuf,
        info: &FrameInfo,
        out: &mut Vec<Tx>,
    ) {
        let Some(local) = &self.local else {
            return self.count_drop(port, DropReason::NotForUs);
        };
        if local.uplink != port || (info.l2.dst != local.mac && !info.l2.dst.is_multicast()) {
            return self.count_drop(port, DropReason::NotForUs);
        }
        if !info.l2.vlans.is_empty() {
            return self.count_drop(port, DropReason::VlanNotAllowed);
        }
        let own_ip = local.ip;
        let own_mac = local.mac;
        let learn_remotes = local.learn_remotes;
        let subnet_broadcast = subnet_broadcast(own_ip, local.prefix_len);
        let off = info.l2.payload_offset;
        if info.l2.ethertype == EtherType::ARP {
            let Some(Ok(req)) = buf.frame().get(off..).map(ArpPacket::new_checked) else {
                return self.count_drop(port, dpu_wire::Error::Truncated.into());
            };
            // RFC 826: update the sender's entry if we have one (only next hops are kept).
            let (sip, smac) = (req.sender_ip(), req.sender_mac());
            if smac.is_unicast()
                && smac != MacAddr::ZERO
                && (self.neighbours.contains_key(&sip)
                    || self.remotes.iter().any(|r| r.next_hop == sip))
            {
                self.neighbours.entry(sip).or_insert(Neighbour::new(now)).heard(now, smac);
            }
            if req.operation() == ArpOperation::REQUEST && req.target_ip() == own_ip {
                let mut reply = PacketBuf::from_frame(&[]);
                let mut res = Err(dpu_wire::Error::BufferTooSmall);
                reply.refill(MIN_FRAME, |f| {
                    f.fill(0);
                    res = arp::build_reply(&req, own_mac, f);
                });
                return match res {
                    Ok(_) => {
                        self.counters.arp_replies += 1;
                        self.send(port, reply, out);
                    }
                    Err(e) => self.count_drop(port, e.into()),
                };
            }
            if req.operation() != ArpOperation::REPLY || req.target_ip() != own_ip {
                self.count_drop(port, DropReason::NotForUs);
            }
            return;
        }
        let (Some(l3), Some(tunnel)) = (info.l3, info.tunnel) else {
            return self.count_drop(port, DropReason::NotForUs);
        };
        let (std::net::IpAddr::V4(src), std::net::IpAddr::V4(dst)) = (l3.src, l3.dst) else {
            return self.count_drop(port, DropReason::NotForUs);
        };
        if dst != own_ip {
            return self.count_drop(port, DropReason::NotForUs);
        }
        // RFC 1122 §3.2.1.3: a host discards a datagram from a source that is not a single
        // host (Linux's input route drops it as a martian source, our own address and the
        // subnet's broadcast included, before the VXLAN socket sees it); nor may such a
        // source be learned as a remote VTEP (`config::is_remote_unicast`, the same rule,
        // refuses it as one).
        if src == own_ip || !is_single_host_v4(src) || Some(src) == subnet_broadcast {
            return self.count_drop(port, DropReason::Martian);
        }
        let encap = match tunnel.kind {
            TunnelKind::Vxlan => Encap::Vxlan,
            TunnelKind::Geneve => Encap::Geneve,
        };
        // RFC 8926 §3.4: control (O bit) packets are not for the tenant; a packet with a
        // critical option the endpoint does not process MUST be dropped (we process none).
        if tunnel.oam {
            return self.count_drop(port, DropReason::NotForUs);
        }
        if tunnel.critical {
            return self.count_drop(port, dpu_wire::Error::BadOption.into());
        }
        // RFC 1122 §3.2.1.2: a host MUST verify the IP header checksum.
        if let Some(Err(e)) = buf
            .frame()
            .get(l3.offset..l3.end)
            .map(|b| Ipv4Packet::new_checked(b).and_then(|p| p.check_checksum()))
        {
            return self.count_drop(port, e.into());
        }
        if l3.is_fragment {
            // RFC 7348 §4.3: VTEPs do not fragment; we do not reassemble either.
            return self.count_drop(port, dpu_wire::Error::Unsupported.into());
        }
        // RFC 7348 §5 / RFC 8926 §3.3: a non-zero outer UDP checksum is verified (a zero one
        // was not computed), as Linux's UDP does before the VXLAN socket sees the packet: a
        // corrupted inner frame must not be bridged, nor its source MAC learned. A frame
        // whose checksum the sending kernel left to offload (`csum_pending`, a local
        // sender's) has nothing to verify yet, and one the receiving device verified
        // (`VIRTIO_NET_HDR_F_DATA_VALID`) is not summed again.
        if !buf.csum_pending()
            && !buf.csum_valid()
            && let Some(Err(e)) = buf.frame().get(l3.l4_offset..l3.end).map(|b| {
                dpu_wire::udp::UdpPacket::new_checked(b).and_then(|u| u.check_checksum_v4(src, dst))
            })
        {
            return self.count_drop(port, e.into());
        }
        let Some(&bridge) = self.by_vni.get(&tunnel.vni) else {
            return self.count_drop(port, DropReason::UnknownVni);
        };
        let vtep = match self.remote_ids.get(&src) {
            Some(&id) => id,
            None if learn_remotes
                && self.remotes.iter().filter(|r| r.learned).count() < MAX_LEARNED_VTEPS =>
            {
                let Some(local) = self.local.take() else { return };
                let id = self.push_remote(&local, src, encap, true, Vec::new(), now);
                self.local = Some(local);
                let Some(id) = id else {
                    return self.count_drop(port, DropReason::UnknownVtep);
                };
                self.config_epoch += 1;
                id
            }
            None => return self.count_drop(port, DropReason::UnknownVtep),
        };
        if let Some(r) = self.remotes.get_mut(usize::from(vtep)) {
            r.rx_packets += 1;
            r.last_seen = now;
            // The outer source MAC is the next hop's when the VTEP is on-link, and when it
            // is a unicast one (a multicast or zero MAC is never a station's source, IEEE
            // 802.3 §3.2.3; the ARP path takes the same care with a sender's).
            let smac = info.l2.src;
            if r.next_hop == src && smac.is_unicast() && smac != MacAddr::ZERO {
                self.neighbours.entry(src).or_insert(Neighbour::new(now)).heard(now, smac);
            }
        }
        // A pending checksum on an overlay frame may be the outer UDP one (the inner is
        // final then) or the inner one: `complete_csum` finishes whichever it is, and the
        // outer goes with the decapsulation.
        let outer_ecn = buf.frame().get(l3.offset + 1).map_or(ecn::NOT_ECT, |tos| tos & 0x03);
        buf.complete_csum();
        if !buf.narrow(tunnel.inner_offset, tunnel.inner_end) {
            return self.count_drop(port, dpu_wire::Error::Truncated.into());
        }
        // RFC 6040 §4.2: a congestion mark the underlay set goes on to the inner packet (as
        // Linux's vxlan_ecn_decapsulate); one Not-ECT outer header costs a compare.
        if ecn::decapsulate(outer_ecn, buf.frame_mut()) == ecn::Decap::Drop {
            return self.count_drop(port, DropReason::EcnCeNotEct);
        }
        self.counters.decapsulated += 1;
        let tunnel = Some((tunnel.vni, src));
        // RFC 7348 §6.1: decapsulated frames with an inner VLAN tag SHOULD be discarded.
        let key = match fastkey::extract(buf.frame()) {
            Some(plain) if plain.tag.is_some() => {
                return self.count_drop(port, DropReason::InnerVlan);
            }
            Some(plain) => PackedKey::from_plain(port, tunnel, false, bridge, &plain),
            None => {
                let inner = match dissect(buf.frame()) {
                    Ok(i) => i,
                    Err(e) => return self.count_drop(port, e.into()),
                };
                if !inner.l2.vlans.is_empty() {
                    return self.count_drop(port, DropReason::InnerVlan);
                }
                PackedKey::pack(&FlowKey::new(port, tunnel, false, bridge, &inner))
            }
        };
        self.forward(now, key, Ingress { port, from: Dest::Vtep(src) }, buf, out);
    }

    /// The epochs flow entries are checked against.
    fn epochs(&self) -> Epochs<'_> {
        let (config, bridges, svis) = (self.config_epoch, &self.bridges, &self.svis);
        Epochs { config, bridges, svis, vrfs: &self.vrf_epochs }
    }

    /// The flow cache and the MAC table, borrowed with the epochs (see [`Self::epochs`]).
    fn flow_parts(&mut self) -> (&mut FlowCache, &mut MacTable, Epochs<'_>) {
        let Switch { flows, mac, config_epoch, bridges, svis, vrf_epochs, .. } = self;
        (flows, mac, Epochs { config: *config_epoch, bridges, svis, vrfs: vrf_epochs })
    }

    /// Periodic work: MAC ageing, idle and stale flow removal, ARP for unresolved next hops
    /// of configured VTEPs (so the first frames need not wait). The workers call it every
    /// 250 ms (`io::TICK`); the flow cache is swept at most every [`FLOW_SWEEP_EVERY`].
    pub fn tick(&mut self, now: Instant, out: &mut Vec<Tx>) {
        // Cache hits refresh their source MAC here, with the flow's last hit, rather than
        // with a table write per frame; ageing below then sees them.
        let (flows, mac, ep) = self.flow_parts();
        // Likewise the neighbours routed flows go to are marked in use.
        let mut routed_hits: FastMap<(MacAddr, MacAddr), Instant> = FastMap::default();
        if flows.sweep_due(now, FLOW_SWEEP_EVERY) {
            flows.sweep(now, FLOW_IDLE, |k, e, recent_hit| {
                if let Some(at) = recent_hit {
                    mac.touch(k.bridge(), k.src(), at);
                    if let Verdict::Route { src_mac, dst_mac, .. } = e.verdict {
                        let last = routed_hits.entry((src_mac, dst_mac)).or_insert(at);
                        *last = (*last).max(at);
                    }
                }
                ep.current(k, e)
            });
        }
        // Flows of the addresses aged out here go stale with their bridge's epoch.
        let ageing: Vec<Duration> = self.bridges.iter().map(|b| b.ageing).collect();
        let mut changed = Vec::new();
        self.mac.age(
            now,
            |b| ageing.get(usize::from(b)).copied().unwrap_or(Duration::ZERO),
            |b| changed.push(b),
        );
        for b in changed {
            if let Some(br) = self.bridges.get_mut(usize::from(b)) {
                br.epoch += 1;
            }
        }
        self.age_underlay_neighbours(now, out);
        let unresolved: Vec<Ipv4Addr> = self
            .remotes
            .iter()
            .filter(|r| !r.learned)
            .map(|r| r.next_hop)
            .filter(|nh| self.neighbours.get(nh).is_none_or(|n| n.mac.is_none()))
            .collect();
        for nh in unresolved {
            self.resolve(now, nh, out);
        }
        self.age_neighbours(now, &routed_hits, out);
        self.age_learned_remotes(now);
    }

    /// Forgets learned remote VTEPs quiet for [`LEARNED_VTEP_AGEING`], and the MACs
    /// learned behind them. Remote ids are indices, so every flow goes stale.
    fn age_learned_remotes(&mut self, now: Instant) {
        let quiet = |r: &RemoteVtep| {
            r.learned && now.saturating_duration_since(r.last_seen) >= LEARNED_VTEP_AGEING
        };
        if !self.remotes.iter().any(quiet) {
            return;
        }
        let gone: Vec<Ipv4Addr> = self.remotes.iter().filter(|r| quiet(r)).map(|r| r.ip).collect();
        self.remotes.retain(|r| !gone.contains(&r.ip));
        // Their underlay next hops go too, unless another remote uses them (as `apply`).
        let remotes = &self.remotes;
        self.neighbours.retain(|ip, _| remotes.iter().any(|r| r.next_hop == *ip));
        self.remote_ids = self
            .remotes
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((r.ip, u16::try_from(i).ok()?)))
            .collect();
        // Configured remotes (the flood lists' ids) come before learned ones: unchanged.
        let mut changed = Vec::new();
        self.mac.forget(
            |dest| matches!(dest, Dest::Vtep(ip) if gone.contains(&ip)),
            |b| changed.push(b),
        );
        for b in changed {
            if let Some(br) = self.bridges.get_mut(usize::from(b)) {
                br.epoch += 1;
            }
        }
        self.config_epoch += 1;
    }

    /// Switch-wide counters.
    pub fn counters(&self) -> SwitchCounters {
        self.counters
    }

    /// Flow-cache statistics.
    pub fn flow_stats(&self) -> FlowStats {
        self.flows.stats()
    }

    /// Status of ports, bridges, VTEPs and the flow cache.
    pub fn status(&self) -> Status {
        let mut ports: Vec<PortStatus> = self
            .ports
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().map(|p| (i, p)))
            .map(|(i, p)| PortStatus {
                id: i as u16,
                name: p.name.clone(),
                mode: match &p.mode {
                    PortMode::Access { .. } => "access",
                    PortMode::Trunk { .. } => "trunk",
                    PortMode::Uplink => "uplink",
                },
                mtu: p.mtu,
                admin_up: p.admin_up,
                counters: p.counters.view(),
            })
            .collect();
        ports.sort_by(|a, b| a.name.cmp(&b.name));
        let bridges = self
            .bridges
            .iter()
            .enumerate()
            .map(|(i, b)| BridgeStatus {
                name: b.name.clone(),
                vlan: b.vlan,
                vni: b.vni,
                members: b
                    .members
                    .iter()
                    .filter_map(|(p, _)| self.port(*p).map(|s| s.name.clone()))
                    .collect(),
                learned_macs: self.mac.learned_in(i as u16),
                mac_limit: b.mac_limit,
                epoch: b.epoch,
                svi: b.svi.and_then(|s| self.svis.get(usize::from(s))).map(|s| {
                    let vrf = self.vrfs.get(usize::from(s.vrf)).map_or("?", |v| v.name.as_str());
                    format!("{}/{} {} {vrf}", s.ip, s.prefix_len, s.mac)
                }),
            })
            .collect();
        let vteps = self
            .remotes
            .iter()
            .map(|r| VtepStatus {
                ip: r.ip,
                next_hop: r.next_hop,
                next_hop_mac: self
                    .neighbours
                    .get(&r.next_hop)
                    .and_then(|n| n.mac)
                    .map(|m| m.to_string()),
                learned: r.learned,
                flood_vnis: r.vnis.clone(),
                tx_packets: r.tx_packets,
                rx_packets: r.rx_packets,
            })
            .collect();
        Status {
            config_epoch: self.generation,
            ports,
            bridges,
            vteps,
            local_vtep: self.local.as_ref().map(|l| LocalVtepStatus {
                ip: l.ip,
                mac: l.mac.to_string(),
                uplink: self.port(l.uplink).map(|p| p.name.clone()).unwrap_or_default(),
            }),
            flow_cache: self.flows.stats(),
            counters: self.counters,
        }
    }

    /// One MAC entry as listings show it.
    fn mac_view(&self, now: Instant, bridge: u16, mac: MacAddr, e: &MacEntry) -> MacEntryView {
        MacEntryView {
            bridge: self
                .bridges
                .get(usize::from(bridge))
                .map(|b| b.name.clone())
                .unwrap_or_default(),
            mac: mac.to_string(),
            dest: self.dest_name(e.dest),
            is_static: e.is_static,
            age_secs: now.saturating_duration_since(e.last_seen).as_secs(),
        }
    }

    /// The whole MAC table, ordered by bridge and address: it costs the whole table under
    /// the caller's lock (tests, small tables); listings page with [`Self::mac_page`].
    pub fn mac_table(&self, now: Instant) -> Vec<MacEntryView> {
        let mut v: Vec<MacEntryView> =
            self.mac.iter().map(|(b, mac, e)| self.mac_view(now, b, mac, e)).collect();
        v.sort_by(|a, b| (&a.bridge, &a.mac).cmp(&(&b.bridge, &b.mac)));
        v
    }

    /// One page of the MAC table (at most 1000 entries), in the table's slot order:
    /// `page_token` is the `next` of the previous page (0 for the first). A page costs
    /// about its size, whatever the table holds ([`crate::paging`], which also says what a
    /// listing of a changing table gives).
    pub fn mac_page(&self, now: Instant, page_token: usize, page_size: usize) -> MacPage {
        let (page, next) = self.mac.page(page_token, page_size.clamp(1, 1000));
        let entries = page.into_iter().map(|(b, mac, e)| self.mac_view(now, b, mac, e)).collect();
        MacPage { entries, next, total: self.mac.len() }
    }

    fn outs_name(&self, outs: &[Out]) -> String {
        let v: Vec<String> = outs
            .iter()
            .map(|o| match o {
                Out::Port { port, tag: None } => self.dest_name(Dest::Port(*port)),
                Out::Port { port, tag: Some(t) } => {
                    format!("{}.{t}", self.dest_name(Dest::Port(*port)))
                }
                Out::Vtep { vtep, vni } => match self.remotes.get(usize::from(*vtep)) {
                    Some(r) => format!("{}:{vni}@{}", r.encap.as_str(), r.ip),
                    None => format!("?:{vni}"),
                },
            })
            .collect();
        if v.is_empty() { "flood:none".into() } else { v.join(",") }
    }

    fn dest_name(&self, d: Dest) -> String {
        match d {
            Dest::Port(p) => {
                self.port(p).map_or_else(|| format!("port#{}", p.0), |s| s.name.clone())
            }
            Dest::Vtep(ip) => format!("vtep:{ip}"),
        }
    }

    /// One page of the flow cache (at most 1000 flows), in the cache's slot order:
    /// `page_token` is the `next` of the previous page (0 for the first). A page costs
    /// about its size, whatever the cache holds ([`crate::paging`], which also says what a
    /// listing of a changing cache gives).
    pub fn flows(&self, now: Instant, page_token: usize, page_size: usize) -> FlowPage {
        let (page, next) = self.flows.page(now, page_token, page_size.clamp(1, 1000));
        let epochs = self.epochs();
        let flows = page
            .into_iter()
            .map(|(k, e, age, idle)| FlowView {
                key: format!(
                    "in={} tun={} br={} {}>{} type={:#06x} ip={}>{} proto={} l4={}:{}",
                    self.port(k.in_port).map_or("?", |p| p.name.as_str()),
                    k.tunnel.map_or_else(|| "-".into(), |(v, ip)| format!("{v}@{ip}")),
                    self.bridges.get(usize::from(k.bridge)).map_or("?", |b| b.name.as_str()),
                    k.src,
                    k.dst,
                    k.ethertype,
                    k.src_ip.map_or_else(|| "-".into(), |a| a.to_string()),
                    k.dst_ip.map_or_else(|| "-".into(), |a| a.to_string()),
                    k.protocol,
                    k.l4.0,
                    k.l4.1
                ),
                action: match &e.verdict {
                    Verdict::Drop(r) => format!("drop:{}", r.as_str()),
                    Verdict::Forward(outs) => self.outs_name(outs),
                    Verdict::Route { dst_mac, outs, .. } => {
                        format!("route:{dst_mac}->{}", self.outs_name(outs))
                    }
                },
                current: epochs.current(&PackedKey::pack(&k), e),
                packets: e.packets,
                bytes: e.bytes,
                age_ms: age.as_millis() as u64,
                idle_ms: idle.as_millis() as u64,
            })
            .collect();
        FlowPage { flows, next, total: self.flows.stats().entries }
    }
}

/// The VLAN tags of a received frame, as classification needs them.
#[derive(Debug, Clone, Copy)]
struct Tags {
    count: usize,
    outer: Option<VlanTag>,
}

impl Tags {
    fn of(stack: &VlanStack) -> Self {
        Tags { count: stack.len(), outer: stack.outer() }
    }
}

/// VLAN classification on ingress: `(vlan, frame carried a tag)`.
fn classify(mode: &PortMode, tags: Tags) -> Result<(u16, bool), DropReason> {
    if tags.count > 1 {
        return Err(DropReason::VlanNotAllowed);
    }
    let tagged = tags.outer.is_some();
    // Untagged, or a priority tag (VID 0), which counts as untagged (IEEE 802.1Q §6.9.1).
    let vid = match tags.outer {
        None => None,
        Some(t) if t.tpid != EtherType::VLAN => return Err(DropReason::VlanNotAllowed),
        Some(t) => Some(t.vid).filter(|v| *v != 0),
    };
    match (mode, vid) {
        (PortMode::Access { vlan }, None) => Ok((*vlan, tagged)),
        (PortMode::Trunk { native_vlan: Some(n), .. }, None) => Ok((*n, tagged)),
        // A frame tagged with the native VLAN's ID belongs to it too (IEEE 802.1Q §6.9: the
        // PVID is a member; Linux's bridge takes it).
        (PortMode::Trunk { vlans, native_vlan }, Some(v))
            if vlans.contains(&v) || *native_vlan == Some(v) =>
        {
            Ok((v, tagged))
        }
        _ => Err(DropReason::VlanNotAllowed),
    }
}

/// Status of one port.
#[derive(Debug, Clone, Serialize)]
pub struct PortStatus {
    /// Port id.
    pub id: u16,
    /// Name (the Linux interface).
    pub name: String,
    /// `access`, `trunk` or `uplink`.
    pub mode: &'static str,
    /// MTU.
    pub mtu: u16,
    /// Admin state.
    pub admin_up: bool,
    /// Counters.
    pub counters: PortCountersView,
}

/// Status of one bridge.
#[derive(Debug, Clone, Serialize)]
pub struct BridgeStatus {
    /// Name.
    pub name: String,
    /// VLAN.
    pub vlan: Option<u16>,
    /// VNI.
    pub vni: Option<u32>,
    /// Member ports.
    pub members: Vec<String>,
    /// Learned MAC entries.
    pub learned_macs: u32,
    /// MAC limit.
    pub mac_limit: u32,
    /// MAC-table epoch.
    pub epoch: u64,
    /// Its SVI: `address mac vrf`.
    pub svi: Option<String>,
}

/// Our VTEP.
#[derive(Debug, Clone, Serialize)]
pub struct LocalVtepStatus {
    /// Underlay address.
    pub ip: Ipv4Addr,
    /// Underlay MAC.
    pub mac: String,
    /// Uplink port.
    pub uplink: String,
}

/// A remote VTEP.
#[derive(Debug, Clone, Serialize)]
pub struct VtepStatus {
    /// Underlay address.
    pub ip: Ipv4Addr,
    /// Next hop towards it.
    pub next_hop: Ipv4Addr,
    /// The next hop's MAC once resolved.
    pub next_hop_mac: Option<String>,
    /// Learned from traffic rather than configured.
    pub learned: bool,
    /// VNIs whose floods it receives.
    pub flood_vnis: Vec<u32>,
    /// Frames encapsulated towards it.
    pub tx_packets: u64,
    /// Frames decapsulated from it.
    pub rx_packets: u64,
}

/// Everything but the tables.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Configuration epoch.
    pub config_epoch: u64,
    /// Ports by name.
    pub ports: Vec<PortStatus>,
    /// Bridges.
    pub bridges: Vec<BridgeStatus>,
    /// Our VTEP.
    pub local_vtep: Option<LocalVtepStatus>,
    /// Remote VTEPs.
    pub vteps: Vec<VtepStatus>,
    /// Flow cache.
    pub flow_cache: FlowStats,
    /// Switch-wide counters.
    pub counters: SwitchCounters,
}

/// One MAC entry.
#[derive(Debug, Clone, Serialize)]
pub struct MacEntryView {
    /// Bridge.
    pub bridge: String,
    /// Address.
    pub mac: String,
    /// Port name or `vtep:IP`.
    pub dest: String,
    /// Static.
    pub is_static: bool,
    /// Seconds since last seen.
    pub age_secs: u64,
}

/// A page of the MAC table.
#[derive(Debug, Clone, Serialize)]
pub struct MacPage {
    /// Entries on this page.
    pub entries: Vec<MacEntryView>,
    /// Token of the next page, if any.
    pub next: Option<usize>,
    /// Entries in the table.
    pub total: usize,
}

/// One flow.
#[derive(Debug, Clone, Serialize)]
pub struct FlowView {
    /// The key, rendered.
    pub key: String,
    /// The compiled action, rendered.
    pub action: String,
    /// Still valid (its epochs are current).
    pub current: bool,
    /// Frames.
    pub packets: u64,
    /// Octets.
    pub bytes: u64,
    /// Since installation.
    pub age_ms: u64,
    /// Since the last frame.
    pub idle_ms: u64,
}

/// A page of flows.
#[derive(Debug, Clone, Serialize)]
pub struct FlowPage {
    /// Flows on this page.
    pub flows: Vec<FlowView>,
    /// Token of the next page, if any.
    pub next: Option<usize>,
    /// Flows in the cache.
    pub total: usize,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashSet;

    /// A switch with one uplink port, p0, that terminates tunnels.
    fn uplink_vtep_switch(now: Instant) -> Switch {
        let config: SwitchConfig = toml::from_str(
            r#"
            [[ports]]
            name = "p0"
            mode = "uplink"

            [vtep]
            uplink = "p0"
            local_ip = "198.51.100.10"
            local_mac = "02:00:00:00:00:10"
            "#,
        )
        .unwrap();
        Switch::new(config, now).unwrap()
    }

    /// Walks a listing page by page from token 0 as the API does: the items of every page,
    /// the most table slots one page looked at, and the slots of the whole walk.
    fn walk<T>(mut page: impl FnMut(usize) -> (Vec<T>, Option<usize>)) -> (Vec<T>, usize, usize) {
        let (mut all, mut most, mut sum) = (Vec::new(), 0, 0);
        let mut token = Some(0);
        crate::paging::take_visited();
        while let Some(t) = token {
            let (items, next) = page(t);
            let visited = crate::paging::take_visited();
            (most, sum) = (most.max(visited), sum + visited);
            all.extend(items);
            token = next;
        }
        (all, most, sum)
    }

    /// A page of the flow cache costs about a page under the switch's lock, not the whole
    /// cache (a listing of 4M flows used to render and sort every one for every page), and
    /// paging through an unchanging cache gives every flow exactly once.
    #[test]
    fn a_flow_page_costs_a_page_and_a_listing_gives_each_flow_once() {
        const N: u16 = 5000;
        let now = Instant::now();
        let mut sw = uplink_vtep_switch(now);
        sw.flows.set_capacity(usize::from(N));
        let p0 = sw.port_id("p0").unwrap();
        for i in 0..N {
            let key = FlowKey {
                in_port: p0,
                tunnel: None,
                tagged: false,
                bridge: 0,
                dst: MacAddr([2, 0, 0, 0, 0, 2]),
                src: MacAddr([2, 0, 0, 0, 0, 1]),
                ethertype: 0x0800,
                src_ip: None,
                dst_ip: None,
                protocol: 17,
                l4: (i, 53),
            };
            let drop = Verdict::Drop(DropReason::UnknownVtep);
            sw.flows.insert(PackedKey::pack(&key), drop, sw.config_epoch, 0, now, 60);
        }
        let (keys, most, sum) = walk(|token| {
            let p = sw.flows(now, token, 100);
            assert_eq!(p.total, usize::from(N));
            (p.flows.into_iter().map(|f| f.key).collect(), p.next)
        });
        let unique: HashSet<&String> = keys.iter().collect();
        assert_eq!((keys.len(), unique.len()), (usize::from(N), usize::from(N)));
        assert!(most <= 16 * 100, "a page of 100 looked at {most} slots");
        assert!(sum <= 3 * usize::from(N), "the whole listing looked at {sum} slots");
    }

    /// The same for the MAC table.
    #[test]
    fn a_mac_page_costs_a_page_and_a_listing_gives_each_address_once() {
        const N: u16 = 5000;
        let now = Instant::now();
        let mut sw = uplink_vtep_switch(now);
        let p0 = Dest::Port(sw.port_id("p0").unwrap());
        for i in 0..N {
            let [hi, lo] = i.to_be_bytes();
            sw.mac.learn(0, MacAddr([2, 0, 0, 0, hi, lo]), p0, now, u32::MAX);
        }
        let (macs, most, sum) = walk(|token| {
            let p = sw.mac_page(now, token, 100);
            assert_eq!(p.total, usize::from(N));
            (p.entries.into_iter().map(|e| e.mac).collect(), p.next)
        });
        let unique: HashSet<&String> = macs.iter().collect();
        assert_eq!((macs.len(), unique.len()), (usize::from(N), usize::from(N)));
        assert!(most <= 16 * 100, "a page of 100 looked at {most} slots");
        assert!(sum <= 3 * usize::from(N), "the whole listing looked at {sum} slots");
    }

    /// A bridge at its `mac_limit` evicts its oldest address (docs/api.md), also after an
    /// apply, which takes the learned addresses out and puts them back: in the order they
    /// were seen, not the table's hash order.
    #[test]
    fn an_apply_keeps_the_oldest_address_first_to_go() {
        const N: u8 = 200;
        let t0 = Instant::now();
        let config: SwitchConfig = toml::from_str(
            r#"
            [[ports]]
            name = "a"
            mode = "access"
            vlan = 10
            [[ports]]
            name = "b"
            mode = "access"
            vlan = 10
            [[bridges]]
            name = "br10"
            vlan = 10
            mac_limit = 200
            "#,
        )
        .unwrap();
        let mut sw = Switch::new(config, t0).unwrap();
        let (a, b) = (sw.port_id("a").unwrap(), sw.port_id("b").unwrap());
        let host = |i: u8| MacAddr([2, 0, 0, 0, 1, i]);
        for i in 0..N {
            let seen = t0 + Duration::from_millis(u64::from(i));
            assert_eq!(sw.mac.learn(0, host(i), Dest::Port(a), seen, 200), Learned::New);
        }
        let now = t0 + Duration::from_secs(1);
        sw.apply(sw.config().clone(), now).unwrap();
        assert_eq!(sw.mac.learned_in(0), u32::from(N), "an identical config keeps them all");
        let newcomer = MacAddr([2, 0, 0, 0, 2, 1]);
        assert_eq!(sw.mac.learn(0, newcomer, Dest::Port(b), now, 200), Learned::New);
        let gone: Vec<u8> = (0..N).filter(|&i| sw.mac.lookup(0, host(i)).is_none()).collect();
        assert_eq!(gone, vec![0], "the oldest address made room");
    }

    /// Once every 16-bit number is taken, a new remote VTEP gets none (its frames find no
    /// remote) instead of a wrapped one that would send them to remote 0.
    #[test]
    fn remote_vtep_numbers_never_wrap() {
        let now = Instant::now();
        let mut sw = uplink_vtep_switch(now);
        let local = sw.local.take().unwrap();
        for i in 0..=u32::from(u16::MAX) {
            let _ = sw.push_remote(
                &local,
                Ipv4Addr::from(0x0a00_0000 + i),
                Encap::Vxlan,
                true,
                Vec::new(),
                now,
            );
        }
        assert_eq!(sw.remote_ids.get(&Ipv4Addr::new(10, 0, 255, 255)), Some(&u16::MAX));
        let extra = Ipv4Addr::new(203, 0, 113, 9);
        let _ = sw.push_remote(&local, extra, Encap::Vxlan, true, Vec::new(), now);
        assert_eq!(sw.remote_ids.get(&extra), None, "remote {extra} aliases another's number");
        assert_eq!(sw.remotes.len(), 1 << 16);
    }

    /// An output to a remote number the table does not have is counted (as not sent on the
    /// uplink), not lost silently.
    #[test]
    fn an_output_to_a_missing_remote_counts_a_drop() {
        let now = Instant::now();
        let mut sw = uplink_vtep_switch(now);
        let uplink = sw.port_id("p0").unwrap();
        let mut out = Vec::new();
        sw.output_vtep(now, 7, 100, 0, PacketBuf::from_frame(&[0; 60]), &mut out);
        assert!(out.is_empty());
        let c = sw.port_counters(uplink).unwrap();
        assert_eq!((c.tx_dropped, c.tx_drops.get(DropReason::UnknownVtep)), (1, 1));
    }
}
