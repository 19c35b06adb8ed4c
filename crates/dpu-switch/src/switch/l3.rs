//! IPv4 routing between bridges through their SVIs (RFC 1812).
//!
//! Each bridge may have an SVI: a gateway address and MAC in a VRF. A frame addressed to the
//! SVI's MAC is routed: longest-prefix match in the VRF (connected subnets of its SVIs plus
//! static routes), next hop resolved with ARP (RFC 826) in the egress bridge, TTL decremented
//! with an incremental checksum update (RFC 1812 §5.3.1, RFC 1624), MACs rewritten, then
//! switched in the egress bridge. The result is cached in the flow cache like any other
//! flow; a routed entry is valid while the MAC tables of its ingress and egress bridges and
//! its VRF's neighbours, routes and SVIs are unchanged (another tenant's changes leave it).
//!
//! The SVI answers ARP and echo requests for its address, and sends time exceeded
//! (RFC 1812 §5.3.1) and destination unreachable (§5.2.7.1) errors under a rate limit
//! per VRF (§4.3.2.8), obeying the RFC 1122 §3.2.2 / RFC 1812 §4.3.2.7 rules on when not
//! to. "Fragmentation needed" / "packet too big" is never limited, as in Linux.
//!
//! IPv6 is routed the same way: the hop limit is decremented (RFC 8200 §3), neighbours are
//! resolved with Neighbor Solicitations to the solicited-node address and the SVI answers
//! solicitations for its own address (RFC 4861 §7), and ICMPv6 errors follow RFC 4443 §2.4.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use dpu_wire::addr::{is_martian_v4, is_martian_v6, is_single_host_v4};
use dpu_wire::arp::{self, ArpOperation, ArpPacket, ArpRepr};
use dpu_wire::ethernet::{EthernetRepr, parse_l2};
use dpu_wire::icmpv4::{self, Icmpv4Error, Icmpv4Packet, Icmpv4Type, Quote};
use dpu_wire::icmpv6::{self, Icmpv6Error, Icmpv6Packet, Icmpv6Type};
use dpu_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use dpu_wire::ipv6::{Ipv6Packet, Ipv6Repr};
use dpu_wire::{EtherType, IpProtocol, MacAddr};

use super::neigh::{self, Ageing, Neighbours};
use super::{ARP_RETRY, FLOW_IDLE, FastMap, Ingress, Signature, Switch};
use crate::config::{
    SwitchConfig, mask, mask6, parse_cidr, parse_cidr6, parse_mac, subnet_broadcast,
};
use crate::counters::DropReason;
use crate::flow::{FlowKey, Out, Outs, Verdict};
use crate::mac::Dest;
use crate::packet::{PacketBuf, Tx};

/// Largest number of IPv4 and IPv6 neighbours (over all VRFs; each VRF with an SVI is sure
/// of an equal part of half of them, see [`super::neigh`]).
pub const MAX_NEIGHBOURS: usize = 16_384;
/// Of them, at most this many still being resolved: traffic to addresses nobody answers
/// for (a scan of a /64) cannot take the room of neighbours that answer. Divided equally
/// between the VRFs with an SVI: a VRF at its part replaces its own oldest waiting entry.
pub const MAX_INCOMPLETE_NEIGHBOURS: usize = MAX_NEIGHBOURS / 4;
/// An address nobody answered for is forgotten after this (Linux: 3 solicitations 1 s
/// apart, then FAILED and collected), so new traffic to it asks again.
pub const NEIGHBOUR_INCOMPLETE: Duration = Duration::from_secs(3);
/// A neighbour not heard from for this long is asked again, by unicast to the MAC it had
/// (RFC 4861 §7.3.3 PROBE, Linux's base_reachable_time), and forgotten after
/// [`NEIGHBOUR_PROBES`] unanswered requests [`ARP_RETRY`] apart: an address that moved to
/// another MAC without a gratuitous ARP is found again, a host that went away is dropped.
pub const NEIGHBOUR_REACHABLE: Duration = Duration::from_secs(30);
/// While the table holds fewer neighbours than this, none is forgotten for being idle
/// (Linux's gc_thresh1).
pub const NEIGHBOUR_GC_THRESH1: usize = 128;
/// A resolved neighbour no routed traffic went to for this long is forgotten while the table
/// holds at least [`NEIGHBOUR_GC_THRESH1`] (Linux's gc_staletime collecting unused
/// entries), so answers to a past scan do not hold room for good. Use is what the tick's
/// flow sweep sees: a routed flow to the neighbour hit since the last sweep.
pub const NEIGHBOUR_IDLE: Duration = Duration::from_secs(60);
// Flows naming an idle neighbour's MAC are gone by the time it is forgotten.
const _: () = assert!(FLOW_IDLE.as_secs() <= NEIGHBOUR_IDLE.as_secs());
/// Unanswered probes before a neighbour is forgotten.
pub const NEIGHBOUR_PROBES: u32 = 3;
/// Probes sent per tick at most, so that many neighbours going stale together do not
/// become a burst.
const PROBES_PER_TICK: usize = 256;
/// ICMP errors per second and VRF (token bucket, RFC 1812 §4.3.2.8), "fragmentation
/// needed" and "packet too big" excepted (see [`IcmpKind::TooBig`]).
pub const ICMP_ERRORS_PER_SEC: u32 = 100;

#[derive(Debug, Clone)]
pub(crate) struct Svi {
    pub bridge: u16,
    pub vrf: u16,
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
    pub mac: MacAddr,
    pub ip6: Option<(Ipv6Addr, u8)>,
}

impl Svi {
    fn contains(&self, ip: Ipv4Addr) -> bool {
        let m = mask(self.prefix_len);
        u32::from(ip) & m == u32::from(self.ip) & m
    }

    fn contains6(&self, ip: Ipv6Addr) -> bool {
        self.ip6.is_some_and(|(own, len)| {
            let m = mask6(len);
            u128::from(ip) & m == u128::from(own) & m
        })
    }

    /// On this SVI's link: inside its subnet, or link-local (RFC 4291 §2.5.6).
    fn on_link(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.contains(a),
            IpAddr::V6(a) => self.contains6(a) || (a.segments()[0] & 0xffc0) == 0xfe80,
        }
    }

    fn owns(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => a == self.ip,
            IpAddr::V6(a) => self.ip6.is_some_and(|(own, _)| own == a),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via6 {
    Connected(u16),
    Gateway(Ipv6Addr),
}

#[derive(Debug, Clone)]
pub(crate) struct Route6 {
    pub net: u128,
    pub len: u8,
    pub via: Via6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// A connected subnet, on this SVI.
    Connected(u16),
    /// A gateway.
    Gateway(Ipv4Addr),
}

#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub net: u32,
    pub len: u8,
    pub via: Via,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Vrf {
    pub name: String,
    /// Longest prefix first (for status; lookups use `by_len`).
    pub routes: Vec<Route>,
    /// IPv6, longest prefix first.
    pub routes6: Vec<Route6>,
    /// One exact-match table per prefix length in use, longest first: a lookup costs at most
    /// one hash probe per distinct length (33 for IPv4, 129 for IPv6), whatever the number of
    /// routes.
    by_len: Vec<(u8, FastMap<u32, Via>)>,
    by_len6: Vec<(u8, FastMap<u128, Via6>)>,
    /// The VRF's own ICMP error budget: a tenant drawing errors as fast as it can spends
    /// its own, never another's.
    icmp_budget: IcmpBudget,
}

impl Vrf {
    /// Builds the lookup tables from `routes`/`routes6` (sorted longest first, connected
    /// before static at equal prefixes, so a connected subnet wins a tie).
    fn index(&mut self) {
        self.by_len.clear();
        for r in &self.routes {
            if self.by_len.last().is_none_or(|(l, _)| *l != r.len) {
                self.by_len.push((r.len, FastMap::default()));
            }
            if let Some((_, m)) = self.by_len.last_mut() {
                m.entry(r.net).or_insert(r.via);
            }
        }
        self.by_len6.clear();
        for r in &self.routes6 {
            if self.by_len6.last().is_none_or(|(l, _)| *l != r.len) {
                self.by_len6.push((r.len, FastMap::default()));
            }
            if let Some((_, m)) = self.by_len6.last_mut() {
                m.entry(r.net).or_insert(r.via);
            }
        }
    }

    /// Longest-prefix match.
    fn lookup(&self, dst: Ipv4Addr) -> Option<Via> {
        let d = u32::from(dst);
        self.by_len.iter().find_map(|(len, m)| m.get(&(d & mask(*len))).copied())
    }

    fn lookup6(&self, dst: Ipv6Addr) -> Option<Via6> {
        let d = u128::from(dst);
        self.by_len6.iter().find_map(|(len, m)| m.get(&(d & mask6(*len))).copied())
    }
}

/// [`ICMP_ERRORS_PER_SEC`] tokens, all back a second after the first of them was taken.
#[derive(Debug, Clone)]
pub(crate) struct IcmpBudget {
    tokens: u32,
    /// None until the first error (the core has no clock of its own).
    refilled: Option<Instant>,
}

impl Default for IcmpBudget {
    fn default() -> Self {
        IcmpBudget { tokens: ICMP_ERRORS_PER_SEC, refilled: None }
    }
}

impl IcmpBudget {
    fn take(&mut self, now: Instant) -> bool {
        if self.refilled.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1))
        {
            self.tokens = ICMP_ERRORS_PER_SEC;
            self.refilled = Some(now);
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// Whether a router must not forward a packet from `src` to `dst`: either is a martian
/// ([`is_martian_v4`], [`is_martian_v6`]), or the families differ.
fn martian(src: IpAddr, dst: IpAddr) -> bool {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => is_martian_v4(s) || is_martian_v4(d),
        (IpAddr::V6(s), IpAddr::V6(d)) => is_martian_v6(s) || is_martian_v6(d),
        _ => true,
    }
}

/// What one of a VRF's own addresses is (`Switch::local_addrs`). Neither is any host's
/// source: a packet from one is a martian (RFC 1812 §5.3.7, §4.2.2.11; Linux's input route
/// drops a local address as a "martian source", and with rp_filter a subnet broadcast).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LocalAddr {
    /// An SVI's address, IPv4 or IPv6: packets to it are for the gateway itself.
    Gateway,
    /// A connected IPv4 subnet's directed broadcast (never forwarded to, RFC 2644).
    Broadcast,
}

/// Why the slow path could not route a packet.
#[derive(Debug, Clone, Copy)]
pub(crate) enum L3Miss {
    NoRoute,
    Unresolved { next_hop: IpAddr, svi: u16 },
    NotIp,
}

/// Which ICMP error to send (the family follows the invoking packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IcmpKind {
    /// TTL / hop limit exceeded in transit.
    TimeExceeded,
    /// No route to the destination.
    NoRoute,
    /// Larger than the egress MTU: IPv4 with DF gets "fragmentation needed" with the next-hop
    /// MTU (RFC 1191 §4, RFC 1812 §5.2.7.1), IPv6 "packet too big" (RFC 4443 §3.2).
    /// Never rate limited, as Linux's icmp_ratemask / icmpv6 ratemask leave them out: a
    /// limited one is a path-MTU black hole. Each answers a packet larger than itself, one
    /// per packet, so it amplifies nothing.
    TooBig {
        /// The egress MTU.
        mtu: u16,
    },
}

/// One IPv4 neighbour, for status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NeighbourView {
    /// VRF.
    pub vrf: String,
    /// Address.
    pub ip: IpAddr,
    /// MAC, once resolved.
    pub mac: Option<String>,
}

/// One route, for status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RouteView {
    /// VRF.
    pub vrf: String,
    /// `a.b.c.d/len`.
    pub prefix: String,
    /// `connected:BRIDGE` or `via:IP`.
    pub via: String,
}

fn frame_l3(frame: &[u8]) -> Option<(usize, usize)> {
    let l2 = parse_l2(frame).ok()?;
    let rest = frame.get(l2.payload_offset..)?;
    let len = if l2.ethertype == EtherType::IPV6 {
        Ipv6Packet::new_checked(rest).ok()?.packet().len()
    } else {
        Ipv4Packet::new_checked(rest).ok()?.total_len()
    };
    Some((l2.payload_offset, l2.payload_offset + len))
}

/// The solicited-node multicast address of `ip` (RFC 4291 §2.7.1) and its MAC (RFC 2464 §7).
fn solicited_node(ip: Ipv6Addr) -> (Ipv6Addr, MacAddr) {
    let o = ip.octets();
    let a = Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        (u16::from(o[14]) << 8) | u16::from(o[15]),
    );
    (a, MacAddr([0x33, 0x33, 0xff, o[13], o[14], o[15]]))
}

/// The link-layer address option of type `want` in ND options (RFC 4861 §4.6.1).
fn nd_lladdr(mut opts: &[u8], want: u8) -> Option<MacAddr> {
    // Bounded by the options' length: every option is at least 8 octets.
    while opts.len() >= 8 {
        let len = usize::from(opts[1]) * 8;
        if len == 0 || len > opts.len() {
            return None;
        }
        if opts[0] == want && len >= 8 {
            return Some(MacAddr([opts[2], opts[3], opts[4], opts[5], opts[6], opts[7]]));
        }
        opts = &opts[len..];
    }
    None
}

/// Builds an Ethernet + IPv6 (hop limit 255) + ND message: `icmp` is written after the
/// 8-octet ICMPv6 header (type `t`, flags `flags`); the checksum is filled in.
#[allow(clippy::too_many_arguments)]
fn nd_frame(
    dst_mac: MacAddr,
    src_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    t: Icmpv6Type,
    flags: u32,
    target: Ipv6Addr,
    opt_type: u8,
) -> Option<PacketBuf> {
    let eth = EthernetRepr { dst: dst_mac, src: src_mac, vlans: &[], ethertype: EtherType::IPV6 };
    let icmp_len = 8 + 16 + 8;
    let repr = Ipv6Repr { hop_limit: 255, ..Ipv6Repr::new(src, dst, IpProtocol::ICMPV6, icmp_len) };
    let mut buf = PacketBuf::from_frame(&[]);
    let mut ok = false;
    buf.refill(14 + 40 + icmp_len, |f| {
        f.fill(0);
        let Ok(hl) = eth.emit(f) else { return };
        let Ok(n) = repr.emit(&mut f[hl..]) else { return };
        let m = &mut f[hl + n..];
        m[0] = t.0;
        m[4..8].copy_from_slice(&flags.to_be_bytes());
        m[8..24].copy_from_slice(&target.octets());
        m[24] = opt_type;
        m[25] = 1;
        m[26..32].copy_from_slice(&src_mac.0);
        ok = Icmpv6Packet::new_checked(&mut m[..icmp_len])
            .map(|mut p| p.fill_checksum(src, dst))
            .is_ok();
    });
    ok.then_some(buf)
}

impl Switch {
    /// Builds the VRFs and SVIs of a validated configuration; keeps resolved neighbours of
    /// VRFs that still exist.
    pub(super) fn apply_l3(&mut self, config: &SwitchConfig, bridge_moved: &HashMap<u16, u16>) {
        let old_names: Vec<String> = self.vrfs.iter().map(|v| v.name.clone()).collect();
        // A VRF keeps its ICMP budget: a configuration change does not refill it.
        let mut budgets: HashMap<String, IcmpBudget> =
            self.vrfs.drain(..).map(|v| (v.name, v.icmp_budget)).collect();
        self.vrfs = config
            .vrfs
            .iter()
            .map(|v| Vrf {
                name: v.name.clone(),
                icmp_budget: budgets.remove(&v.name).unwrap_or_default(),
                ..Vrf::default()
            })
            .collect();
        let vrf_index: HashMap<&str, u16> =
            config.vrfs.iter().enumerate().map(|(i, v)| (v.name.as_str(), i as u16)).collect();
        self.svis.clear();
        for (bi, bc) in config.bridges.iter().enumerate() {
            let Some(sc) = &bc.svi else { continue };
            let (Some(&vrf), Some((ip, prefix_len)), Some(mac)) =
                (vrf_index.get(sc.vrf.as_str()), parse_cidr(&sc.address), parse_mac(&sc.mac))
            else {
                continue;
            };
            let si = self.svis.len() as u16;
            let ip6 = sc.address6.as_deref().and_then(parse_cidr6);
            self.svis.push(Svi { bridge: bi as u16, vrf, ip, prefix_len, mac, ip6 });
            if let (Some((a6, l6)), Some(v)) = (ip6, self.vrfs.get_mut(usize::from(vrf))) {
                v.routes6.push(Route6 {
                    net: u128::from(a6) & mask6(l6),
                    len: l6,
                    via: Via6::Connected(si),
                });
            }
            if let Some(b) = self.bridges.get_mut(bi) {
                b.svi = Some(si);
            }
            if let Some(v) = self.vrfs.get_mut(usize::from(vrf)) {
                v.routes.push(Route {
                    net: u32::from(ip) & mask(prefix_len),
                    len: prefix_len,
                    via: Via::Connected(si),
                });
            }
        }
        self.svi_macs = self.svis.iter().map(|s| s.mac).collect();
        // Broadcasts first: should overlapping subnets make one SVI's address another's
        // subnet broadcast, it stays the gateway it is.
        self.local_addrs = self
            .svis
            .iter()
            .filter_map(|s| {
                let b = subnet_broadcast(s.ip, s.prefix_len)?;
                Some(((s.vrf, IpAddr::V4(b)), LocalAddr::Broadcast))
            })
            .collect();
        for s in &self.svis {
            let v6 = s.ip6.map(|(a, _)| (s.vrf, IpAddr::V6(a)));
            for k in std::iter::once((s.vrf, IpAddr::V4(s.ip))).chain(v6) {
                self.local_addrs.insert(k, LocalAddr::Gateway);
            }
        }
        self.svi_macs.sort_unstable();
        self.svi_macs.dedup();
        for (vi, vc) in config.vrfs.iter().enumerate() {
            for r in &vc.routes {
                let Some(v) = self.vrfs.get_mut(vi) else { continue };
                match r.next_hop {
                    IpAddr::V4(nh) => {
                        let Some((net, len)) = parse_cidr(&r.prefix) else { continue };
                        v.routes.push(Route {
                            net: u32::from(net) & mask(len),
                            len,
                            via: Via::Gateway(nh),
                        });
                    }
                    IpAddr::V6(nh) => {
                        let Some((net, len)) = parse_cidr6(&r.prefix) else { continue };
                        v.routes6.push(Route6 {
                            net: u128::from(net) & mask6(len),
                            len,
                            via: Via6::Gateway(nh),
                        });
                    }
                }
            }
        }
        for v in &mut self.vrfs {
            // Longest prefix first; connected before static at equal length.
            v.routes.sort_by_key(|r| (std::cmp::Reverse(r.len), matches!(r.via, Via::Gateway(_))));
            v.routes6
                .sort_by_key(|r| (std::cmp::Reverse(r.len), matches!(r.via, Via6::Gateway(_))));
            v.index();
        }
        let routing: Vec<bool> = (0..self.vrfs.len())
            .map(|v| self.svis.iter().any(|s| usize::from(s.vrf) == v))
            .collect();
        // A VRF's routed verdicts are computed from its routes, its SVIs (addresses, MACs,
        // the bridges they sit in, by index as the neighbours and verdicts name them), its
        // neighbours (bumped as they change, and below as an apply drops them) and its
        // bridges' state (their own epochs). It keeps its epoch, and so its routed flows,
        // only when the same VRF sits at the same index with the same signature.
        let mut svis_of: HashMap<&str, Vec<_>> = HashMap::new();
        for (bi, bc) in config.bridges.iter().enumerate() {
            if let Some(sc) = &bc.svi {
                svis_of.entry(sc.vrf.as_str()).or_default().push((bi, bc.name.as_str(), sc));
            }
        }
        let old_sigs = std::mem::take(&mut self.vrf_sigs);
        self.vrf_sigs =
            config.vrfs.iter().map(|v| Signature::of(&(v, svis_of.get(v.name.as_str())))).collect();
        let mut changed: Vec<bool> = config
            .vrfs
            .iter()
            .zip(&self.vrf_sigs)
            .enumerate()
            .map(|(i, (v, sig))| old_names.get(i) != Some(&v.name) || old_sigs.get(i) != Some(sig))
            .collect();
        let old = std::mem::replace(&mut self.l3_neigh, Neighbours::new(&routing));
        for ((vrf, ip), n) in old.into_entries() {
            let Some(name) = old_names.get(usize::from(vrf)) else { continue };
            let Some(&nv) = vrf_index.get(name.as_str()) else { continue };
            // Kept while its bridge still has an SVI of the VRF whose link holds it.
            if let Some(&bridge) = bridge_moved.get(&n.bridge)
                && self.svis.iter().any(|s| s.bridge == bridge && s.vrf == nv && s.on_link(ip))
            {
                let mut n = n;
                n.bridge = bridge;
                self.l3_neigh.restore((nv, ip), n);
            } else if n.mac.is_some()
                && let Some(c) = changed.get_mut(usize::from(nv))
            {
                // Forgotten while resolved: the VRF's flows may name its MAC.
                *c = true;
            }
        }
        // A changed VRF takes an epoch above every one used at any index, not its index's
        // next: `Epochs::routed` sums the parts and reads the VRF's at the ingress SVI's VRF
        // index, which an apply may change (a VRF removed or added in front, an SVI moved to
        // another VRF): only a VRF part above any an entry was stored with keeps the sum
        // from coming out equal under another VRF. Epochs still only grow per index.
        let fresh = self.vrf_epochs.iter().copied().max().unwrap_or(0) + 1;
        if self.vrf_epochs.len() < self.vrfs.len() {
            self.vrf_epochs.resize(self.vrfs.len(), 0);
        }
        for (e, _) in self.vrf_epochs.iter_mut().zip(&changed).filter(|(_, c)| **c) {
            *e = fresh;
        }
    }

    /// Stales the routed flows of VRF `vrf`: one of its neighbours changed.
    fn neighbours_changed(&mut self, vrf: u16) {
        if let Some(e) = self.vrf_epochs.get_mut(usize::from(vrf)) {
            *e += 1;
        }
    }

    /// Whether `ip` is the address of one of VRF `vrf`'s SVIs (either family).
    fn is_gateway(&self, vrf: u16, ip: IpAddr) -> bool {
        self.local_addrs.get(&(vrf, ip)) == Some(&LocalAddr::Gateway)
    }

    /// Whether a packet from `src` to `dst` in VRF `vrf` is a martian: [`martian`], or
    /// `src` is one of the VRF's own addresses ([`LocalAddr`]). One lookup, on the slow
    /// path only: the verdict is cached with the flow, whose key holds both addresses, and
    /// a configuration change (which alone changes the VRF's addresses) stales it.
    fn martian_in(&self, vrf: u16, src: IpAddr, dst: IpAddr) -> bool {
        martian(src, dst) || self.local_addrs.contains_key(&(vrf, src))
    }

    /// Whether `src` cannot have sent a packet to the gateway itself (RFC 1122 §3.2.1.3):
    /// an address that names no single host, or one of the VRF's own. Unlike a routed
    /// packet's, a link-local source is valid here: it is never forwarded, but lives on its
    /// link (RFC 3927 §2.7, RFC 4291 §2.5.6), and Linux answers it.
    fn bad_source_to_us(&self, vrf: u16, src: IpAddr) -> bool {
        let no_host = match src {
            IpAddr::V4(s) => !is_single_host_v4(s),
            IpAddr::V6(s) => is_martian_v6(s) && !s.is_unicast_link_local(),
        };
        no_host || self.local_addrs.contains_key(&(vrf, src))
    }

    /// Handles ARP and packets for the SVI itself; true when the frame was consumed.
    pub(super) fn svi_control(
        &mut self,
        now: Instant,
        si: u16,
        key: &FlowKey,
        buf: &mut PacketBuf,
        ingress: Ingress,
        out: &mut Vec<Tx>,
    ) -> bool {
        let Some(svi) = self.svis.get(usize::from(si)).cloned() else { return false };
        if key.ethertype == EtherType::ARP.0 {
            let Some(off) = parse_l2(buf.frame()).ok().map(|l| l.payload_offset) else {
                return false;
            };
            let Some(Ok(arp)) = buf.frame().get(off..).map(ArpPacket::new_checked) else {
                return false;
            };
            let (sip, smac, tip, op) =
                (arp.sender_ip(), arp.sender_mac(), arp.target_ip(), arp.operation());
            if svi.contains(sip) && smac.is_unicast() && smac != MacAddr::ZERO && sip != svi.ip {
                // A request or reply for the gateway creates the entry (RFC 826).
                self.heard_neighbour(now, &svi, IpAddr::V4(sip), smac, tip == svi.ip);
            }
            if tip != svi.ip {
                if key.dst != svi.mac {
                    // Between hosts: bridged as any frame.
                    return false;
                }
                // Sent to the gateway's MAC for an address not its own: Linux's bridge hands
                // it to the local stack only, whose `arp_process` ignores a target that is
                // not local (no proxy ARP here), so it is neither answered nor flooded.
                self.learn(key.bridge, key.src, ingress.from, now);
                self.count_drop(ingress.port, DropReason::NotForUs);
                return true;
            }
            self.learn(key.bridge, key.src, ingress.from, now);
            if op == ArpOperation::REQUEST {
                let mut reply = PacketBuf::from_frame(&[]);
                let mut ok = false;
                reply.refill(60, |f| {
                    f.fill(0);
                    ok = arp::build_reply(&arp, svi.mac, f).is_ok();
                });
                if ok {
                    self.counters.svi_arp_replies += 1;
                    self.l2_send(now, svi.bridge, smac, reply, out);
                }
            }
            return true;
        }
        if key.ethertype == EtherType::IPV6.0
            && key.protocol == IpProtocol::ICMPV6.0
            && self.svi_icmpv6(now, &svi, key, buf, ingress, out)
        {
            return true;
        }
        // IPv4 or IPv6 to one of the VRF's gateway addresses: for the gateway itself, never
        // routed (nor answered "no route" from the address it was sent to).
        let Some(dst) = key.dst_ip else { return false };
        if key.dst != svi.mac || !self.is_gateway(svi.vrf, dst) {
            return false;
        }
        self.learn(key.bridge, key.src, ingress.from, now);
        // RFC 1122 §3.2.1.3: a datagram from an invalid source is discarded, not answered
        // (Linux's input route drops it as a martian before it reaches ICMP).
        if key.src_ip.is_some_and(|src| self.bad_source_to_us(svi.vrf, src)) {
            self.count_drop(ingress.port, DropReason::Martian);
            return true;
        }
        if let IpAddr::V4(dst) = dst
            && key.protocol == IpProtocol::ICMP.0
            && key.l4.0 >> 8 == u16::from(Icmpv4Type::ECHO_REQUEST.0)
            && let Some(reply) = echo_reply(buf.frame(), svi.mac, key.src, dst)
        {
            self.counters.icmp_echo_replies += 1;
            self.l2_send(now, svi.bridge, key.src, reply, out);
            return true;
        }
        self.count_drop(ingress.port, DropReason::NotForUs);
        true
    }

    /// The slow path of a routed packet.
    pub(super) fn route(&self, key: &FlowKey, ingress_svi: u16) -> Result<Verdict, L3Miss> {
        // Before anything else, so a martian gets no ICMP error either (RFC 1812 §4.3.2.7:
        // never to a broadcast source).
        if let (Some(src), Some(dst), Some(svi)) =
            (key.src_ip, key.dst_ip, self.svis.get(usize::from(ingress_svi)))
            && self.martian_in(svi.vrf, src, dst)
        {
            return Ok(Verdict::Drop(DropReason::Martian));
        }
        match key.dst_ip {
            Some(IpAddr::V4(dst)) => self.route4(dst, ingress_svi),
            Some(IpAddr::V6(dst)) => self.route6(dst, ingress_svi),
            None => Err(L3Miss::NotIp),
        }
    }

    fn route6(&self, dst: Ipv6Addr, ingress_svi: u16) -> Result<Verdict, L3Miss> {
        let svi = self.svis.get(usize::from(ingress_svi)).ok_or(L3Miss::NoRoute)?;
        let vrf = self.vrfs.get(usize::from(svi.vrf)).ok_or(L3Miss::NoRoute)?;
        let via = vrf.lookup6(dst).ok_or(L3Miss::NoRoute)?;
        let (next_hop, esi) = match via {
            Via6::Connected(s) => (dst, s),
            Via6::Gateway(g) => match vrf.lookup6(g) {
                Some(Via6::Connected(s)) => (g, s),
                _ => return Err(L3Miss::NoRoute),
            },
        };
        let esvi = self.svis.get(usize::from(esi)).ok_or(L3Miss::NoRoute)?;
        if esvi.owns(IpAddr::V6(next_hop)) {
            return Err(L3Miss::NoRoute);
        }
        let nh = IpAddr::V6(next_hop);
        let Some(mac) = self.l3_neigh.get(&(svi.vrf, nh)).and_then(|n| n.mac) else {
            return Err(L3Miss::Unresolved { next_hop: nh, svi: esi });
        };
        let outs = self.l2_outs(esvi.bridge, mac);
        Ok(Verdict::Route {
            src_mac: esvi.mac,
            dst_mac: mac,
            bridge: esvi.bridge,
            outs: Outs::from(outs),
        })
    }

    fn route4(&self, dst: Ipv4Addr, ingress_svi: u16) -> Result<Verdict, L3Miss> {
        let svi = self.svis.get(usize::from(ingress_svi)).ok_or(L3Miss::NoRoute)?;
        let vrf = self.vrfs.get(usize::from(svi.vrf)).ok_or(L3Miss::NoRoute)?;
        let via = vrf.lookup(dst).ok_or(L3Miss::NoRoute)?;
        let (next_hop, esi) = match via {
            Via::Connected(s) => (dst, s),
            Via::Gateway(g) => match vrf.lookup(g) {
                Some(Via::Connected(s)) => (g, s),
                _ => return Err(L3Miss::NoRoute),
            },
        };
        let esvi = self.svis.get(usize::from(esi)).ok_or(L3Miss::NoRoute)?;
        if next_hop == esvi.ip {
            return Err(L3Miss::NoRoute);
        }
        // A directed broadcast to a connected subnet is not forwarded (RFC 2644; Linux's
        // bc_forwarding is off by default).
        if subnet_broadcast(esvi.ip, esvi.prefix_len) == Some(next_hop) {
            return Ok(Verdict::Drop(DropReason::Martian));
        }
        let nh = IpAddr::V4(next_hop);
        let Some(mac) = self.l3_neigh.get(&(svi.vrf, nh)).and_then(|n| n.mac) else {
            return Err(L3Miss::Unresolved { next_hop: nh, svi: esi });
        };
        let outs = self.l2_outs(esvi.bridge, mac);
        Ok(Verdict::Route {
            src_mac: esvi.mac,
            dst_mac: mac,
            bridge: esvi.bridge,
            outs: Outs::from(outs),
        })
    }

    /// What to do when the slow path could not route.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn l3_miss(
        &mut self,
        now: Instant,
        miss: L3Miss,
        ingress_svi: u16,
        key: &FlowKey,
        buf: PacketBuf,
        ingress: Ingress,
        out: &mut Vec<Tx>,
    ) {
        // RFC 1812 §5.2.2: a packet whose header checksum fails is discarded silently (as
        // Linux's ip_rcv does before it looks a route up): no ICMP error quoting it, no ARP
        // request for the destination it names. A routed one is checked by
        // `rewrite_routed`.
        if key.ethertype == EtherType::IPV4.0
            && let Some(Err(e)) = frame_l3(buf.frame())
                .and_then(|(start, end)| buf.frame().get(start..end))
                .map(|ip| Ipv4Packet::new_checked(ip).and_then(|p| p.check_checksum()))
        {
            return self.count_drop(ingress.port, e.into());
        }
        match miss {
            L3Miss::NoRoute => {
                self.icmp_error(now, ingress_svi, key, &buf, IcmpKind::NoRoute, out);
                self.count_drop(ingress.port, DropReason::NoRoute);
            }
            L3Miss::Unresolved { next_hop: IpAddr::V4(nh), svi } => {
                self.arp_request(now, svi, nh, out);
                self.count_drop(ingress.port, DropReason::NeighbourUnresolved);
            }
            L3Miss::Unresolved { next_hop: IpAddr::V6(nh), svi } => {
                self.neighbour_solicit(now, svi, nh, out);
                self.count_drop(ingress.port, DropReason::NeighbourUnresolved);
            }
            L3Miss::NotIp => self.count_drop(ingress.port, dpu_wire::Error::Unsupported.into()),
        }
    }

    /// Checks an (untagged) routed frame and, when `fits` the next link, decrements its TTL
    /// or hop limit, in one pass over the header: the IPv4 header checksum (RFC 1812
    /// §5.2.2: a router MUST verify it) and a TTL that lets it go one hop further (RFC 1812
    /// §5.3.1, RFC 8200 §3; [`Error::TtlExpired`](dpu_wire::Error::TtlExpired) when not)
    /// come first; a frame too big for the next link is left as received, for the ICMP
    /// error that quotes it.
    pub(super) fn rewrite_routed(
        &mut self,
        buf: &mut PacketBuf,
        fits: bool,
    ) -> Result<(), dpu_wire::Error> {
        let f = buf.frame_mut();
        let v6 = f.get(12..14) == Some(&EtherType::IPV6.0.to_be_bytes()[..]);
        let ip = f.get_mut(dpu_wire::ethernet::HEADER_LEN..).ok_or(dpu_wire::Error::Truncated)?;
        if v6 {
            let mut ip = Ipv6Packet::new_checked(ip)?;
            if ip.hop_limit() <= 1 {
                return Err(dpu_wire::Error::TtlExpired);
            }
            if fits {
                ip.decrement_hop_limit()?;
            }
        } else {
            let mut ip = Ipv4Packet::new_checked(ip)?;
            ip.check_checksum()?;
            if ip.ttl() <= 1 {
                return Err(dpu_wire::Error::TtlExpired);
            }
            if fits {
                ip.decrement_ttl()?;
            }
        }
        if fits {
            self.counters.routed += 1;
        }
        Ok(())
    }

    /// Sends an ICMP error about the frame in `buf` back to its sender, from the SVI.
    pub(super) fn icmp_error(
        &mut self,
        now: Instant,
        si: u16,
        key: &FlowKey,
        buf: &PacketBuf,
        kind: IcmpKind,
        out: &mut Vec<Tx>,
    ) {
        let Some(svi) = self.svis.get(usize::from(si)).cloned() else { return };
        let Some((start, end)) = frame_l3(buf.frame()) else { return };
        let Some(invoking) = buf.frame().get(start..end) else { return };
        if key.ethertype == EtherType::IPV6.0 {
            return self.icmpv6_error(now, &svi, key, invoking, kind, out);
        }
        let error = match kind {
            IcmpKind::TimeExceeded => Icmpv4Error::TimeExceeded { code: 0 },
            IcmpKind::NoRoute => {
                Icmpv4Error::DestUnreachable { code: icmpv4::unreachable::NET, next_hop_mtu: 0 }
            }
            IcmpKind::TooBig { mtu } => Icmpv4Error::DestUnreachable {
                code: icmpv4::unreachable::FRAG_NEEDED,
                next_hop_mtu: mtu,
            },
        };
        let Ok(inv) = Ipv4Packet::new_checked(invoking) else { return };
        if !icmpv4::may_send_error(&inv) || key.dst.is_multicast() {
            return;
        }
        if !self.icmp_allowed(now, svi.vrf, kind) {
            return;
        }
        let eth =
            EthernetRepr { dst: key.src, src: svi.mac, vlans: &[], ethertype: EtherType::IPV4 };
        let mut reply = PacketBuf::from_frame(&[]);
        let mut len = None;
        reply.refill(14 + icmpv4::RFC1812_MAX_DATAGRAM, |f| {
            let Ok(hl) = eth.emit(f) else { return };
            if let Ok(n) =
                icmpv4::build_ipv4_error(&mut f[hl..], svi.ip, error, invoking, Quote::Rfc1812)
            {
                len = Some(hl + n);
            }
        });
        let Some(len) = len else { return };
        reply.set_len(len.max(60));
        self.counters.icmp_errors += 1;
        self.l2_send(now, svi.bridge, key.src, reply, out);
    }

    /// Whether an ICMP error of `kind` from VRF `vrf` may go now (taking from its budget),
    /// else counts it as rate limited. See [`IcmpKind::TooBig`].
    fn icmp_allowed(&mut self, now: Instant, vrf: u16, kind: IcmpKind) -> bool {
        if matches!(kind, IcmpKind::TooBig { .. }) {
            return true;
        }
        let allowed = self.vrfs.get_mut(usize::from(vrf)).is_some_and(|v| v.icmp_budget.take(now));
        if !allowed {
            self.counters.icmp_rate_limited += 1;
        }
        allowed
    }

    /// The smallest L3 MTU over `outs` (an overlay output loses the 50 octets of outer
    /// Ethernet, IPv4, UDP and VXLAN/Geneve headers to the uplink's MTU).
    pub(super) fn path_mtu(&self, outs: &[Out]) -> Option<u16> {
        outs.iter()
            .filter_map(|o| match *o {
                Out::Port { port, .. } => self.port(port).map(|p| p.mtu),
                Out::Vtep { .. } => self
                    .local
                    .as_ref()
                    .and_then(|l| self.port(l.uplink))
                    .map(|p| p.mtu.saturating_sub(50)),
            })
            .min()
    }

    /// Records that `ip` is being resolved; false when a request went out within
    /// [`ARP_RETRY`] or its VRF has no room (see [`Neighbours::insert_waiting`]).
    fn start_resolving(&mut self, now: Instant, svi: &Svi, ip: IpAddr) -> bool {
        let key = (svi.vrf, ip);
        if !self.l3_neigh.contains(&key) && !self.l3_neigh.insert_waiting(key, now, svi.bridge) {
            return false;
        }
        self.l3_neigh.request(&key, now, ARP_RETRY)
    }

    /// Sends a Neighbor Solicitation for `ip` from SVI `si` (RFC 4861 §7.2.2).
    fn neighbour_solicit(&mut self, now: Instant, si: u16, ip: Ipv6Addr, out: &mut Vec<Tx>) {
        let Some(svi) = self.svis.get(usize::from(si)).cloned() else { return };
        if svi.ip6.is_none() || !self.start_resolving(now, &svi, IpAddr::V6(ip)) {
            return;
        }
        self.send_solicit(now, &svi, ip, None, out);
    }

    /// A Neighbor Solicitation for `ip` from `svi`: to its solicited-node address, or to
    /// the neighbour itself at `unicast` to probe it (RFC 4861 §7.3.3).
    fn send_solicit(
        &mut self,
        now: Instant,
        svi: &Svi,
        ip: Ipv6Addr,
        unicast: Option<MacAddr>,
        out: &mut Vec<Tx>,
    ) {
        let Some((own, _)) = svi.ip6 else { return };
        let (dst, dst_mac) = match unicast {
            Some(mac) => (ip, mac),
            None => solicited_node(ip),
        };
        if let Some(f) =
            nd_frame(dst_mac, svi.mac, own, dst, Icmpv6Type::NEIGHBOR_SOLICIT, 0, ip, 1)
        {
            self.counters.arp_requests += 1;
            self.l2_send(now, svi.bridge, dst_mac, f, out);
        }
    }

    /// ICMPv6 for the SVI: Neighbor Solicitations and Advertisements (RFC 4861 §7.1.1
    /// validation, §7.2.4 answer), echo requests to its address. True when consumed.
    /// Nothing is reassembled: a fragment (first or not) is no message of its own, and ND
    /// with a Fragment header, even an atomic one, is ignored (RFC 6980 §5).
    fn svi_icmpv6(
        &mut self,
        now: Instant,
        svi: &Svi,
        key: &FlowKey,
        buf: &PacketBuf,
        ingress: Ingress,
        out: &mut Vec<Tx>,
    ) -> bool {
        let Some((own, _)) = svi.ip6 else { return false };
        let Some((start, end)) = frame_l3(buf.frame()) else { return false };
        let Some(Ok(ip)) = buf.frame().get(start..end).map(Ipv6Packet::new_checked) else {
            return false;
        };
        let Ok(h) = ip.headers() else { return false };
        // A non-first fragment's data is no ICMPv6 header, and a first fragment's message
        // is incomplete: neither is read (the IPv4 echo does the same).
        if h.upper_protocol != IpProtocol::ICMPV6 || h.is_fragment() {
            return false;
        }
        let Some(Ok(icmp)) = ip.packet().get(h.upper_offset..).map(Icmpv6Packet::new_checked)
        else {
            return false;
        };
        if icmp.check_checksum(ip.src(), ip.dst()).is_err() {
            return false;
        }
        let t = icmp.msg_type();
        if t == Icmpv6Type::NEIGHBOR_SOLICIT || t == Icmpv6Type::NEIGHBOR_ADVERT {
            let m = icmp.message();
            // RFC 4861 §7.1.1: hop limit 255, code 0, at least 24 octets. RFC 6980 §5: not
            // in a packet with a Fragment header, atomic fragments included (Linux's ndisc
            // drops them too), so no crafted fragment can move a neighbour.
            if ip.hop_limit() != 255 || icmp.code() != 0 || m.len() < 24 || h.fragment.is_some() {
                return false;
            }
            let mut target = [0u8; 16];
            target.copy_from_slice(&m[8..24]);
            let target = Ipv6Addr::from(target);
            let opts = &m[24..];
            if t == Icmpv6Type::NEIGHBOR_SOLICIT {
                if target != own {
                    return false;
                }
                let src = ip.src();
                self.learn(key.bridge, key.src, ingress.from, now);
                if src.is_unspecified() {
                    // Duplicate address detection of our own address by another node: it is
                    // ours, so defend it (RFC 4861 §7.2.4, RFC 4862 §5.4.3): an advertisement
                    // to all nodes, Solicited clear, so the other node gives the address up
                    // rather than taking over the gateway.
                    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
                    let dst_mac = MacAddr([0x33, 0x33, 0, 0, 0, 1]);
                    let flags = 0xa000_0000; // router, override
                    let advert = Icmpv6Type::NEIGHBOR_ADVERT;
                    if let Some(f) =
                        nd_frame(dst_mac, svi.mac, own, all_nodes, advert, flags, own, 2)
                    {
                        self.counters.svi_arp_replies += 1;
                        self.l2_send(now, svi.bridge, dst_mac, f, out);
                    }
                    return true;
                }
                let mac = nd_lladdr(opts, 1).unwrap_or(key.src);
                self.note_neighbour(now, svi, IpAddr::V6(src), mac, true);
                // Solicited, override, router (RFC 4861 §4.4).
                let flags = 0xe000_0000;
                if let Some(f) =
                    nd_frame(key.src, svi.mac, own, src, Icmpv6Type::NEIGHBOR_ADVERT, flags, own, 2)
                {
                    self.counters.svi_arp_replies += 1;
                    self.l2_send(now, svi.bridge, key.src, f, out);
                }
                return true;
            }
            let mac = nd_lladdr(opts, 2).unwrap_or(key.src);
            // RFC 4861 §7.2.5: without the Override flag (a proxy's or an anycast answer)
            // an advertisement fills in a neighbour being resolved but MUST NOT change the
            // address of a resolved one (Linux's ndisc keeps it too).
            let override_flag = m[4] & 0x20 != 0;
            let cached = self.l3_neigh.get(&(svi.vrf, IpAddr::V6(target))).and_then(|n| n.mac);
            if override_flag || cached.is_none_or(|c| c == mac) {
                self.note_neighbour(now, svi, IpAddr::V6(target), mac, false);
            }
            return key.dst == svi.mac;
        }
        // An echo to any of the VRF's gateway addresses, as for IPv4, answered from it;
        // one from a martian source is left to `svi_control`, which drops it.
        let (src, dst) = (IpAddr::V6(ip.src()), IpAddr::V6(ip.dst()));
        let to_gateway = ip.dst() == own || self.is_gateway(svi.vrf, dst);
        if t == Icmpv6Type::ECHO_REQUEST
            && key.dst == svi.mac
            && to_gateway
            && !self.bad_source_to_us(svi.vrf, src)
        {
            let own = ip.dst();
            self.learn(key.bridge, key.src, ingress.from, now);
            let data = icmp.data();
            let eth =
                EthernetRepr { dst: key.src, src: svi.mac, vlans: &[], ethertype: EtherType::IPV6 };
            let len = icmpv6::HEADER_LEN + data.len();
            let repr = Ipv6Repr::new(own, ip.src(), IpProtocol::ICMPV6, len);
            let mut reply = PacketBuf::from_frame(&[]);
            let mut ok = false;
            reply.refill(14 + 40 + len, |f| {
                ok = eth
                    .emit(f)
                    .and_then(|hl| repr.emit(&mut f[hl..]).map(|n| hl + n))
                    .and_then(|at| {
                        icmpv6::emit_echo(
                            &mut f[at..],
                            own,
                            ip.src(),
                            false,
                            icmp.echo_ident(),
                            icmp.echo_seq(),
                            data,
                        )
                    })
                    .is_ok();
            });
            if ok {
                self.counters.icmp_echo_replies += 1;
                self.l2_send(now, svi.bridge, key.src, reply, out);
            }
            return true;
        }
        false
    }

    /// Updates a neighbour's MAC: always for a known one, and a new one only when `create`.
    fn note_neighbour(&mut self, now: Instant, svi: &Svi, ip: IpAddr, mac: MacAddr, create: bool) {
        if !svi.on_link(ip) || !mac.is_unicast() || mac == MacAddr::ZERO || svi.owns(ip) {
            return;
        }
        self.heard_neighbour(now, svi, ip, mac, create);
    }

    /// `ip` was heard from at `mac`: a known neighbour takes it; an unknown one is added when
    /// `create` and its VRF has room (taking nobody's place).
    fn heard_neighbour(&mut self, now: Instant, svi: &Svi, ip: IpAddr, mac: MacAddr, create: bool) {
        let key = (svi.vrf, ip);
        let changed = match self.l3_neigh.heard(&key, now, svi.bridge, mac) {
            Some(changed) => changed,
            None => create && self.l3_neigh.insert_heard(key, now, svi.bridge, mac),
        };
        if changed {
            self.neighbours_changed(svi.vrf);
        }
    }

    fn icmpv6_error(
        &mut self,
        now: Instant,
        svi: &Svi,
        key: &FlowKey,
        invoking: &[u8],
        kind: IcmpKind,
        out: &mut Vec<Tx>,
    ) {
        let Some((own, _)) = svi.ip6 else { return };
        let error = match kind {
            IcmpKind::TimeExceeded => Icmpv6Error::TimeExceeded { code: 0 },
            IcmpKind::NoRoute => Icmpv6Error::DestUnreachable { code: 0 },
            IcmpKind::TooBig { mtu } => Icmpv6Error::PacketTooBig { mtu: u32::from(mtu) },
        };
        let Ok(inv) = Ipv6Packet::new_checked(invoking) else { return };
        if !icmpv6::may_send_error(&inv, error) || key.dst.is_multicast() {
            return;
        }
        if !self.icmp_allowed(now, svi.vrf, kind) {
            return;
        }
        let eth =
            EthernetRepr { dst: key.src, src: svi.mac, vlans: &[], ethertype: EtherType::IPV6 };
        let mut reply = PacketBuf::from_frame(&[]);
        let mut len = None;
        // RFC 4443 §2.4(c): as much of the invoking packet as fits the minimum MTU (1280).
        reply.refill(14 + 1280, |f| {
            let Ok(hl) = eth.emit(f) else { return };
            if let Ok(n) = icmpv6::build_ipv6_error(&mut f[hl..], own, error, invoking) {
                len = Some(hl + n);
            }
        });
        let Some(len) = len else { return };
        reply.set_len(len);
        self.counters.icmp_errors += 1;
        self.l2_send(now, svi.bridge, key.src, reply, out);
    }

    /// Asks for `ip` from SVI `si` (rate limited per neighbour).
    fn arp_request(&mut self, now: Instant, si: u16, ip: Ipv4Addr, out: &mut Vec<Tx>) {
        let Some(svi) = self.svis.get(usize::from(si)).cloned() else { return };
        if !self.start_resolving(now, &svi, IpAddr::V4(ip)) {
            return;
        }
        self.send_arp_request(now, &svi, ip, MacAddr::BROADCAST, out);
    }

    /// An ARP request for `ip` from `svi` to `dst` (broadcast, or the neighbour's MAC to
    /// probe it).
    fn send_arp_request(
        &mut self,
        now: Instant,
        svi: &Svi,
        ip: Ipv4Addr,
        dst: MacAddr,
        out: &mut Vec<Tx>,
    ) {
        let eth = EthernetRepr { dst, src: svi.mac, vlans: &[], ethertype: EtherType::ARP };
        let req = ArpRepr {
            operation: ArpOperation::REQUEST,
            sender_mac: svi.mac,
            sender_ip: svi.ip,
            target_mac: MacAddr::ZERO,
            target_ip: ip,
        };
        let mut buf = PacketBuf::from_frame(&[]);
        let mut ok = false;
        buf.refill(60, |f| {
            f.fill(0);
            ok = eth.emit(f).and_then(|hl| req.emit(&mut f[hl..])).is_ok();
        });
        if ok {
            self.counters.arp_requests += 1;
            self.l2_send(now, svi.bridge, dst, buf, out);
        }
    }

    /// Forgets addresses nobody answered for ([`NEIGHBOUR_INCOMPLETE`]), neighbours that
    /// stopped answering and, while the table holds at least [`NEIGHBOUR_GC_THRESH1`],
    /// those nobody routed to for [`NEIGHBOUR_IDLE`]; probes those not heard from for
    /// [`NEIGHBOUR_REACHABLE`]. `routed` holds when routed flows were last hit, by egress
    /// SVI MAC and next-hop MAC: the neighbours they go to are in use. Run on every tick.
    pub(super) fn age_neighbours(
        &mut self,
        now: Instant,
        routed: &FastMap<(MacAddr, MacAddr), Instant>,
        out: &mut Vec<Tx>,
    ) {
        // The VRFs that forgot a resolved neighbour (their routed flows name its MAC).
        let mut forgot_resolved = Vec::new();
        let mut probes = Vec::new();
        let crowded = self.l3_neigh.len() >= NEIGHBOUR_GC_THRESH1;
        let (bridges, svis) = (&self.bridges, &self.svis);
        let svi_mac = |bridge: u16| {
            let si = bridges.get(usize::from(bridge))?.svi?;
            svis.get(usize::from(si)).map(|s| s.mac)
        };
        self.l3_neigh.retain(|&(vrf, ip), n| {
            let quiet = now.saturating_duration_since(n.updated);
            let Some(mac) = n.mac else { return quiet < NEIGHBOUR_INCOMPLETE };
            if let Some(&hit) = svi_mac(n.bridge).and_then(|s| routed.get(&(s, mac))) {
                n.used = n.used.max(hit);
            }
            // Idle: no flow that was hit in the last FLOW_IDLE names its MAC, so forgetting
            // it stales none.
            if crowded && now.saturating_duration_since(n.used) >= NEIGHBOUR_IDLE {
                return false;
            }
            // Only after its probes went unanswered: with many neighbours going quiet
            // together, those beyond a tick's probes wait their turn.
            match neigh::ageing(now, n.updated, n.last_request, n.probes) {
                Ageing::Forget => {
                    forgot_resolved.push(vrf);
                    return false;
                }
                Ageing::Probe if probes.len() < PROBES_PER_TICK => {
                    n.last_request = Some(now);
                    n.probes += 1;
                    probes.push((n.bridge, ip, mac));
                }
                Ageing::Probe | Ageing::Keep => {}
            }
            true
        });
        for vrf in forgot_resolved {
            self.neighbours_changed(vrf);
        }
        for (bridge, ip, mac) in probes {
            let Some(svi) = self.svis.iter().find(|s| s.bridge == bridge).cloned() else {
                continue;
            };
            match ip {
                IpAddr::V4(v4) => self.send_arp_request(now, &svi, v4, mac, out),
                IpAddr::V6(v6) => self.send_solicit(now, &svi, v6, Some(mac), out),
            }
        }
    }

    /// Outputs for a frame to `dst` in `bridge`: where the MAC table says, else a flood.
    fn l2_outs(&self, bridge: u16, dst: MacAddr) -> Vec<Out> {
        let Some(br) = self.bridges.get(usize::from(bridge)) else { return Vec::new() };
        if !dst.is_multicast()
            && let Some(d) = self.mac.lookup(bridge, dst)
        {
            let o = match d {
                Dest::Port(p) => br
                    .members
                    .iter()
                    .find(|(m, _)| *m == p)
                    .map(|(m, tag)| Out::Port { port: *m, tag: *tag }),
                Dest::Vtep(ip) => br
                    .vni
                    .and_then(|vni| self.remote_ids.get(&ip).map(|&vtep| Out::Vtep { vtep, vni })),
            };
            if let Some(o) = o {
                return vec![o];
            }
        }
        let mut outs: Vec<Out> = br
            .members
            .iter()
            .filter(|(p, _)| self.port(*p).is_some_and(|s| s.admin_up))
            .map(|(p, tag)| Out::Port { port: *p, tag: *tag })
            .collect();
        if let Some(vni) = br.vni {
            outs.extend(br.flood.iter().map(|&vtep| Out::Vtep { vtep, vni }));
        }
        outs
    }

    /// Sends a frame the switch itself originates into `bridge`, towards `dst`.
    fn l2_send(
        &mut self,
        now: Instant,
        bridge: u16,
        dst: MacAddr,
        buf: PacketBuf,
        out: &mut Vec<Tx>,
    ) {
        let outs = self.l2_outs(bridge, dst);
        let entropy = dpu_wire::vxlan::source_port(u32::from_be_bytes([
            dst.0[2], dst.0[3], dst.0[4], dst.0[5],
        ]));
        self.emit(now, &outs, entropy, buf, out);
    }

    /// IPv4 neighbours, for status.
    pub fn neighbours(&self) -> Vec<NeighbourView> {
        let mut v: Vec<NeighbourView> = self
            .l3_neigh
            .iter()
            .map(|((vrf, ip), n)| NeighbourView {
                vrf: self.vrfs.get(usize::from(*vrf)).map(|v| v.name.clone()).unwrap_or_default(),
                ip: *ip,
                mac: n.mac.map(|m| m.to_string()),
            })
            .collect();
        v.sort_by(|a, b| (&a.vrf, a.ip).cmp(&(&b.vrf, b.ip)));
        v
    }

    /// Routes of every VRF, longest prefix first.
    pub fn routes(&self) -> Vec<RouteView> {
        let mut out = Vec::new();
        for v in &self.vrfs {
            for r in &v.routes {
                let via = match r.via {
                    Via::Connected(s) => format!(
                        "connected:{}",
                        self.svis
                            .get(usize::from(s))
                            .and_then(|s| self.bridges.get(usize::from(s.bridge)))
                            .map_or("?", |b| b.name.as_str())
                    ),
                    Via::Gateway(g) => format!("via:{g}"),
                };
                out.push(RouteView {
                    vrf: v.name.clone(),
                    prefix: format!("{}/{}", Ipv4Addr::from(r.net), r.len),
                    via,
                });
            }
            for r in &v.routes6 {
                let via = match r.via {
                    Via6::Connected(s) => format!(
                        "connected:{}",
                        self.svis
                            .get(usize::from(s))
                            .and_then(|s| self.bridges.get(usize::from(s.bridge)))
                            .map_or("?", |b| b.name.as_str())
                    ),
                    Via6::Gateway(g) => format!("via:{g}"),
                };
                out.push(RouteView {
                    vrf: v.name.clone(),
                    prefix: format!("{}/{}", Ipv6Addr::from(r.net), r.len),
                    via,
                });
            }
        }
        out
    }
}

/// Builds the echo reply to the echo request in `frame` (RFC 792), from `our_ip`/`our_mac`.
fn echo_reply(frame: &[u8], our_mac: MacAddr, to: MacAddr, our_ip: Ipv4Addr) -> Option<PacketBuf> {
    let (start, end) = frame_l3(frame)?;
    let ip = Ipv4Packet::new_checked(frame.get(start..end)?).ok()?;
    ip.check_checksum().ok()?;
    let icmp = Icmpv4Packet::new_checked(ip.payload()).ok()?;
    icmp.check_checksum().ok()?;
    if icmp.msg_type() != Icmpv4Type::ECHO_REQUEST || ip.is_fragment() {
        return None;
    }
    let data = icmp.data();
    let eth = EthernetRepr { dst: to, src: our_mac, vlans: &[], ethertype: EtherType::IPV4 };
    let icmp_len = icmpv4::HEADER_LEN + data.len();
    let repr = Ipv4Repr::new(our_ip, ip.src(), IpProtocol::ICMP, icmp_len);
    let mut buf = PacketBuf::from_frame(&[]);
    let mut ok = false;
    buf.refill((14 + 20 + icmp_len).max(60), |f| {
        f.fill(0);
        ok = eth
            .emit(f)
            .and_then(|hl| repr.emit(&mut f[hl..]).map(|n| hl + n))
            .and_then(|at| {
                icmpv4::emit_echo(&mut f[at..], false, icmp.echo_ident(), icmp.echo_seq(), data)
            })
            .is_ok();
    });
    ok.then_some(buf)
}
