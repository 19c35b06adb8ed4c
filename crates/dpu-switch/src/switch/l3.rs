//! IPv4 routing between bridges through their SVIs (RFC 1812).
//!
//! Each bridge may have an SVI: a gateway address and MAC in a VRF. A frame addressed to the
//! SVI's MAC is routed: longest-prefix match in the VRF (connected subnets of its SVIs plus
//! static routes), next hop resolved with ARP (RFC 826) in the egress bridge, TTL decremented
//! with an incremental checksum update (RFC 1812 §5.3.1, RFC 1624), MACs rewritten, then
//! switched in the egress bridge. The result is cached in the flow cache like any other
//! flow; a routed entry is valid while no MAC table and no neighbour changed.
//!
//! The SVI answers ARP and echo requests for its address, and sends time exceeded
//! (RFC 1812 §5.3.1) and destination unreachable (§5.2.7.1) errors under a rate limit
//! (§4.3.2.8), obeying the RFC 1122 §3.2.2 / RFC 1812 §4.3.2.7 rules on when not to.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_wire::arp::{self, ArpOperation, ArpPacket, ArpRepr};
use dpu_wire::ethernet::{EthernetRepr, parse_l2};
use dpu_wire::icmpv4::{self, Icmpv4Error, Icmpv4Packet, Icmpv4Type, Quote};
use dpu_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use dpu_wire::{EtherType, IpProtocol, MacAddr};

use super::{ARP_RETRY, Ingress, Switch};
use crate::config::{SwitchConfig, mask, parse_cidr, parse_mac};
use crate::counters::DropReason;
use crate::flow::{FlowKey, Out, Verdict};
use crate::mac::Dest;
use crate::packet::{PacketBuf, Tx};

/// Largest number of IPv4 neighbours (over all VRFs).
pub const MAX_NEIGHBOURS: usize = 16_384;
/// ICMP errors per second (token bucket, RFC 1812 §4.3.2.8).
pub const ICMP_ERRORS_PER_SEC: u32 = 100;

#[derive(Debug, Clone)]
pub(crate) struct Svi {
    pub bridge: u16,
    pub vrf: u16,
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
    pub mac: MacAddr,
}

impl Svi {
    fn contains(&self, ip: Ipv4Addr) -> bool {
        let m = mask(self.prefix_len);
        u32::from(ip) & m == u32::from(self.ip) & m
    }
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
    /// Longest prefix first.
    pub routes: Vec<Route>,
}

impl Vrf {
    /// Longest-prefix match (routes are kept longest first; the slow path only).
    fn lookup(&self, dst: Ipv4Addr) -> Option<&Route> {
        let d = u32::from(dst);
        self.routes.iter().find(|r| d & mask(r.len) == r.net)
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct L3Neighbour {
    pub mac: Option<MacAddr>,
    pub updated: Instant,
    pub last_request: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct IcmpBudget {
    tokens: u32,
    refilled: Instant,
}

impl IcmpBudget {
    pub fn new(now: Instant) -> Self {
        IcmpBudget { tokens: ICMP_ERRORS_PER_SEC, refilled: now }
    }

    fn take(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.refilled) >= Duration::from_secs(1) {
            self.tokens = ICMP_ERRORS_PER_SEC;
            self.refilled = now;
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// Why the slow path could not route a packet.
#[derive(Debug, Clone, Copy)]
pub(crate) enum L3Miss {
    NoRoute,
    Unresolved { next_hop: Ipv4Addr, svi: u16 },
    NotIpv4,
}

/// One IPv4 neighbour, for status.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NeighbourView {
    /// VRF.
    pub vrf: String,
    /// Address.
    pub ip: Ipv4Addr,
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
    let ip = Ipv4Packet::new_checked(frame.get(l2.payload_offset..)?).ok()?;
    Some((l2.payload_offset, l2.payload_offset + ip.total_len()))
}

impl Switch {
    /// Builds the VRFs and SVIs of a validated configuration; keeps resolved neighbours of
    /// VRFs that still exist.
    pub(super) fn apply_l3(&mut self, config: &SwitchConfig) {
        let old_names: Vec<String> = self.vrfs.iter().map(|v| v.name.clone()).collect();
        self.vrfs =
            config.vrfs.iter().map(|v| Vrf { name: v.name.clone(), routes: Vec::new() }).collect();
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
            self.svis.push(Svi { bridge: bi as u16, vrf, ip, prefix_len, mac });
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
        for (vi, vc) in config.vrfs.iter().enumerate() {
            for r in &vc.routes {
                let Some((net, len)) = parse_cidr(&r.prefix) else { continue };
                if let Some(v) = self.vrfs.get_mut(vi) {
                    v.routes.push(Route {
                        net: u32::from(net) & mask(len),
                        len,
                        via: Via::Gateway(r.next_hop),
                    });
                }
            }
        }
        for v in &mut self.vrfs {
            // Longest prefix first; connected before static at equal length.
            v.routes.sort_by_key(|r| (std::cmp::Reverse(r.len), matches!(r.via, Via::Gateway(_))));
        }
        let old = std::mem::take(&mut self.l3_neigh);
        for ((vrf, ip), n) in old {
            let Some(name) = old_names.get(usize::from(vrf)) else { continue };
            if let Some(&nv) = vrf_index.get(name.as_str())
                && self.svis.iter().any(|s| s.vrf == nv && s.contains(ip))
            {
                self.l3_neigh.insert((nv, ip), n);
            }
        }
        self.l3_epoch += 1;
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
                let known = self.l3_neigh.contains_key(&(svi.vrf, sip));
                if known || (tip == svi.ip && self.l3_neigh.len() < MAX_NEIGHBOURS) {
                    let n = self.l3_neigh.entry((svi.vrf, sip)).or_insert(L3Neighbour {
                        mac: None,
                        updated: now,
                        last_request: None,
                    });
                    if n.mac != Some(smac) {
                        n.mac = Some(smac);
                        self.l3_epoch += 1;
                    }
                    n.updated = now;
                }
            }
            if tip != svi.ip {
                return false;
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
        // IPv4 to one of the VRF's gateway addresses.
        let Some(IpAddr::V4(dst)) = key.dst_ip else { return false };
        if key.dst != svi.mac || key.ethertype != EtherType::IPV4.0 {
            return false;
        }
        if !self.svis.iter().any(|s| s.vrf == svi.vrf && s.ip == dst) {
            return false;
        }
        self.learn(key.bridge, key.src, ingress.from, now);
        if key.protocol == IpProtocol::ICMP.0
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
        let Some(IpAddr::V4(dst)) = key.dst_ip else { return Err(L3Miss::NotIpv4) };
        let svi = self.svis.get(usize::from(ingress_svi)).ok_or(L3Miss::NoRoute)?;
        let vrf = self.vrfs.get(usize::from(svi.vrf)).ok_or(L3Miss::NoRoute)?;
        let route = vrf.lookup(dst).ok_or(L3Miss::NoRoute)?;
        let (next_hop, esi) = match route.via {
            Via::Connected(s) => (dst, s),
            Via::Gateway(g) => match vrf.lookup(g).map(|r| r.via) {
                Some(Via::Connected(s)) => (g, s),
                _ => return Err(L3Miss::NoRoute),
            },
        };
        let esvi = self.svis.get(usize::from(esi)).ok_or(L3Miss::NoRoute)?;
        if next_hop == esvi.ip {
            return Err(L3Miss::NoRoute);
        }
        let Some(mac) = self.l3_neigh.get(&(svi.vrf, next_hop)).and_then(|n| n.mac) else {
            return Err(L3Miss::Unresolved { next_hop, svi: esi });
        };
        let outs = self.l2_outs(esvi.bridge, mac);
        Ok(Verdict::Route { ingress_svi, src_mac: esvi.mac, dst_mac: mac, outs: Arc::from(outs) })
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
        match miss {
            L3Miss::NoRoute => {
                let err = Icmpv4Error::DestUnreachable {
                    code: icmpv4::unreachable::NET,
                    next_hop_mtu: 0,
                };
                self.icmp_error(now, ingress_svi, key, &buf, err, out);
                self.count_drop(ingress.port, DropReason::NoRoute);
            }
            L3Miss::Unresolved { next_hop, svi } => {
                self.arp_request(now, svi, next_hop, out);
                self.count_drop(ingress.port, DropReason::NeighbourUnresolved);
            }
            L3Miss::NotIpv4 => self.count_drop(ingress.port, dpu_wire::Error::Unsupported.into()),
        }
    }

    /// Verifies the header checksum and decrements the TTL of the (untagged) routed frame.
    pub(super) fn rewrite_routed(&mut self, buf: &mut PacketBuf) -> Result<(), dpu_wire::Error> {
        let f = buf.frame_mut();
        let ip = f.get_mut(dpu_wire::ethernet::HEADER_LEN..).ok_or(dpu_wire::Error::Truncated)?;
        let mut ip = Ipv4Packet::new_checked(ip)?;
        // RFC 1812 §5.2.2: a router MUST verify the header checksum.
        ip.check_checksum()?;
        ip.decrement_ttl()?;
        self.counters.routed += 1;
        Ok(())
    }

    /// Sends an ICMP error about the frame in `buf` back to its sender, from the SVI.
    pub(super) fn icmp_error(
        &mut self,
        now: Instant,
        si: u16,
        key: &FlowKey,
        buf: &PacketBuf,
        error: Icmpv4Error,
        out: &mut Vec<Tx>,
    ) {
        let Some(svi) = self.svis.get(usize::from(si)).cloned() else { return };
        let Some((start, end)) = frame_l3(buf.frame()) else { return };
        let Some(invoking) = buf.frame().get(start..end) else { return };
        let Ok(inv) = Ipv4Packet::new_checked(invoking) else { return };
        if !icmpv4::may_send_error(&inv) || key.dst.is_multicast() {
            return;
        }
        if !self.icmp_budget.take(now) {
            self.counters.icmp_rate_limited += 1;
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

    /// Asks for `ip` from SVI `si` (rate limited per neighbour).
    fn arp_request(&mut self, now: Instant, si: u16, ip: Ipv4Addr, out: &mut Vec<Tx>) {
        let Some(svi) = self.svis.get(usize::from(si)).cloned() else { return };
        if self.l3_neigh.len() >= MAX_NEIGHBOURS && !self.l3_neigh.contains_key(&(svi.vrf, ip)) {
            return;
        }
        let n = self.l3_neigh.entry((svi.vrf, ip)).or_insert(L3Neighbour {
            mac: None,
            updated: now,
            last_request: None,
        });
        if n.last_request.is_some_and(|t| now.saturating_duration_since(t) < ARP_RETRY) {
            return;
        }
        n.last_request = Some(now);
        let eth = EthernetRepr {
            dst: MacAddr::BROADCAST,
            src: svi.mac,
            vlans: &[],
            ethertype: EtherType::ARP,
        };
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
            self.l2_send(now, svi.bridge, MacAddr::BROADCAST, buf, out);
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
