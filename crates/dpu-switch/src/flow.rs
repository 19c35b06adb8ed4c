//! The flow cache: exact match on the parsed key of a frame, mapping to a compiled action
//! (the "megaflow-less" exact-match cache of OVS, the UFT of OPTE).
//!
//! The first frame of a flow takes the slow path (classification, learning, lookup of the
//! MAC table) and installs the compiled [`Verdict`]; later frames take one hash lookup.
//! Every entry records the epochs it was computed under: the switch's configuration epoch
//! and its bridge's epoch (bumped when the bridge's MAC table changes). A lookup that finds
//! an entry from an older epoch treats it as a miss, so a configuration or MAC change takes
//! effect on the very next frame of every affected flow.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use dpu_wire::MacAddr;
use dpu_wire::dissect::{FrameInfo, L4Info};

use crate::counters::DropReason;
use crate::fastkey::PlainFrame;
use crate::packet::PortId;

/// Default number of entries.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// The exact-match key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    /// Ingress port.
    pub in_port: PortId,
    /// For decapsulated frames: VNI and the remote VTEP.
    pub tunnel: Option<(u32, Ipv4Addr)>,
    /// The frame carried a VLAN tag (popped before forwarding).
    pub tagged: bool,
    /// Bridge index.
    pub bridge: u16,
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// EtherType after the tags.
    pub ethertype: u16,
    /// IP source.
    pub src_ip: Option<IpAddr>,
    /// IP destination.
    pub dst_ip: Option<IpAddr>,
    /// IP protocol (0 without IP).
    pub protocol: u8,
    /// TCP/UDP ports; ICMP `(type << 8 | code, identifier)`.
    pub l4: (u16, u16),
}

impl FlowKey {
    /// The key of a dissected frame.
    pub fn new(
        in_port: PortId,
        tunnel: Option<(u32, Ipv4Addr)>,
        tagged: bool,
        bridge: u16,
        info: &FrameInfo,
    ) -> Self {
        let l4 = match info.l4 {
            Some(L4Info::Tcp { src_port, dst_port, .. } | L4Info::Udp { src_port, dst_port }) => {
                (src_port, dst_port)
            }
            Some(L4Info::Icmp { msg_type, code, ident }) => {
                ((u16::from(msg_type) << 8) | u16::from(code), ident)
            }
            None => (0, 0),
        };
        FlowKey {
            in_port,
            tunnel,
            tagged,
            bridge,
            dst: info.l2.dst,
            src: info.l2.src,
            ethertype: info.l2.ethertype.0,
            src_ip: info.l3.map(|l| l.src),
            dst_ip: info.l3.map(|l| l.dst),
            protocol: info.l3.map_or(0, |l| l.protocol.0),
            l4,
        }
    }

    /// The key of a frame read by the hit-path extractor (the same key [`FlowKey::new`]
    /// gives for it; tested in `fastkey`).
    pub(crate) fn from_plain(
        in_port: PortId,
        tunnel: Option<(u32, Ipv4Addr)>,
        tagged: bool,
        bridge: u16,
        p: &PlainFrame,
    ) -> Self {
        FlowKey {
            in_port,
            tunnel,
            tagged,
            bridge,
            dst: p.dst,
            src: p.src,
            ethertype: p.ethertype,
            src_ip: Some(p.src_ip),
            dst_ip: Some(p.dst_ip),
            protocol: p.protocol,
            l4: p.ports,
        }
    }

    /// A hash of the inner flow only (addresses, protocol, ports; not the ingress), stable
    /// across runs: the source of the outer UDP source port (RFC 7348 §5).
    pub fn entropy(&self) -> u32 {
        let mut h = DefaultHasher::new();
        (self.src, self.dst, self.ethertype, self.src_ip, self.dst_ip, self.protocol, self.l4)
            .hash(&mut h);
        let v = h.finish();
        (v ^ (v >> 32)) as u32
    }
}

/// 48 bits of a MAC address.
fn mac_bits(m: MacAddr) -> u64 {
    let [a, b, c, d, e, f] = m.0;
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

/// An IP address as 128 bits plus its kind (0 none, 1 IPv4, 2 IPv6).
fn ip_bits(ip: Option<IpAddr>) -> (u128, u64) {
    match ip {
        None => (0, 0),
        Some(IpAddr::V4(a)) => (u128::from(u32::from(a)), 1),
        Some(IpAddr::V6(a)) => (u128::from(a), 2),
    }
}

/// Hashes the key as a few packed words instead of field by field (one hash per frame on
/// the hit path: fewer hasher rounds is most of its cost). Every field goes in, so equal
/// keys hash equally.
impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let (src_ip, src_kind) = ip_bits(self.src_ip);
        let (dst_ip, dst_kind) = ip_bits(self.dst_ip);
        let tunnel =
            self.tunnel.map_or(0, |(vni, ip)| (u64::from(vni) << 32) | u64::from(u32::from(ip)));
        h.write_u64(
            u64::from(self.in_port.0)
                | (u64::from(self.bridge) << 16)
                | (u64::from(self.ethertype) << 32)
                | (u64::from(self.protocol) << 48)
                | (u64::from(self.tagged) << 56)
                | (src_kind << 57)
                | (dst_kind << 59)
                | (u64::from(self.tunnel.is_some()) << 61),
        );
        h.write_u64(mac_bits(self.dst) | (u64::from(self.l4.0) << 48));
        h.write_u64(mac_bits(self.src) | (u64::from(self.l4.1) << 48));
        h.write_u64(tunnel);
        h.write_u128(src_ip);
        h.write_u128(dst_ip);
    }
}

/// Where one copy of a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// A local port, with the VLAN tag to push (none: untagged).
    Port {
        /// The port.
        port: PortId,
        /// Tag to push.
        tag: Option<u16>,
    },
    /// A remote VTEP (index in the switch's VTEP table), VXLAN with this VNI.
    Vtep {
        /// Remote VTEP index.
        vtep: u16,
        /// VNI.
        vni: u32,
    },
}

/// The outputs of a compiled action. The common case, one output, is held inline so that a
/// cache hit copies it instead of touching a shared reference count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outs {
    /// Exactly one output.
    One(Out),
    /// Any other number (floods).
    Many(Arc<[Out]>),
}

impl Outs {
    /// One output.
    pub fn one(o: Out) -> Self {
        Outs::One(o)
    }
}

impl From<Vec<Out>> for Outs {
    fn from(v: Vec<Out>) -> Self {
        match v.as_slice() {
            [o] => Outs::One(*o),
            _ => Outs::Many(Arc::from(v)),
        }
    }
}

impl std::ops::Deref for Outs {
    type Target = [Out];

    fn deref(&self) -> &[Out] {
        match self {
            Outs::One(o) => std::slice::from_ref(o),
            Outs::Many(v) => v,
        }
    }
}

/// The compiled action of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Drop and count.
    Drop(DropReason),
    /// Send copies to these outputs (none: a flood with no other member).
    Forward(Outs),
    /// Route (IPv4): check the header, decrement the TTL, rewrite the MAC addresses, then
    /// send to the outputs in the egress bridge.
    Route {
        /// The SVI the frame came in on (source of ICMP errors).
        ingress_svi: u16,
        /// The egress SVI's MAC.
        src_mac: MacAddr,
        /// The next hop's MAC.
        dst_mac: MacAddr,
        /// Outputs in the egress bridge.
        outs: Outs,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct FlowEntry {
    pub verdict: Verdict,
    pub config_epoch: u64,
    pub bridge_epoch: u64,
    pub entropy: u16,
    pub packets: u64,
    pub bytes: u64,
    pub created: Instant,
    pub last_used: Instant,
}

/// Cache statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlowStats {
    /// Entries now.
    pub entries: usize,
    /// Capacity.
    pub capacity: usize,
    /// Lookups that found a current entry.
    pub hits: u64,
    /// Lookups that found nothing.
    pub misses: u64,
    /// Lookups that found an entry from an older epoch.
    pub invalidated: u64,
    /// Entries removed because they were idle.
    pub expired: u64,
    /// Installs refused because the cache was full.
    pub full: u64,
}

#[derive(Debug)]
pub(crate) struct FlowCache {
    map: HashMap<FlowKey, FlowEntry, foldhash::quality::RandomState>,
    pub stats: FlowStats,
}

impl FlowCache {
    pub fn new(capacity: usize) -> Self {
        FlowCache {
            map: HashMap::default(),
            stats: FlowStats { capacity: capacity.max(1), ..FlowStats::default() },
        }
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.stats.capacity = capacity.max(1);
    }

    /// Looks `key` up; a current entry is counted (`len` octets) and `read` gets its
    /// verdict and entropy. The verdict is lent, not cloned: the caller takes what it needs
    /// from the entry itself (a cloned verdict read back was a store-forwarding stall).
    #[allow(clippy::too_many_arguments)]
    pub fn lookup<R>(
        &mut self,
        key: &FlowKey,
        config_epoch: u64,
        bridge_epoch: u64,
        now: Instant,
        len: usize,
        read: impl FnOnce(&Verdict, u16) -> R,
    ) -> Option<R> {
        match self.map.get_mut(key) {
            Some(e) if e.config_epoch == config_epoch && e.bridge_epoch == bridge_epoch => {
                self.stats.hits += 1;
                e.packets += 1;
                e.bytes += len as u64;
                e.last_used = now;
                Some(read(&e.verdict, e.entropy))
            }
            Some(_) => {
                self.stats.invalidated += 1;
                self.map.remove(key);
                None
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Installs an entry for the frame that just took the slow path (counted as its first).
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &mut self,
        key: FlowKey,
        verdict: Verdict,
        config_epoch: u64,
        bridge_epoch: u64,
        entropy: u16,
        now: Instant,
        len: usize,
    ) {
        if self.map.len() >= self.stats.capacity {
            self.stats.full += 1;
            return;
        }
        self.map.insert(
            key,
            FlowEntry {
                verdict,
                config_epoch,
                bridge_epoch,
                entropy,
                packets: 1,
                bytes: len as u64,
                created: now,
                last_used: now,
            },
        );
        self.stats.entries = self.map.len();
    }

    /// Removes entries idle for `idle` or computed under an older epoch.
    pub fn sweep(
        &mut self,
        now: Instant,
        idle: std::time::Duration,
        current: impl Fn(&FlowKey, &FlowEntry) -> bool,
    ) {
        let before = self.map.len();
        self.map.retain(|k, e| now.saturating_duration_since(e.last_used) < idle && current(k, e));
        self.stats.expired += (before - self.map.len()) as u64;
        self.stats.entries = self.map.len();
    }

    pub fn stats(&self) -> FlowStats {
        FlowStats { entries: self.map.len(), ..self.stats }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&FlowKey, &FlowEntry)> {
        self.map.iter()
    }
}
