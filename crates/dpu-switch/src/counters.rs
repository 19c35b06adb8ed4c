//! Drop reasons and per-port counters.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::packet::PacketBuf;

/// Why the pipeline dropped a frame. The names ([`DropReason::as_str`]) are stable counter
/// labels; parse failures use `dpu_wire`'s own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// A header did not validate (the wire crate's reason).
    Wire(dpu_wire::Error),
    /// The port is administratively down.
    PortDown,
    /// The frame's VLAN (or lack of one) is not allowed on the port.
    VlanNotAllowed,
    /// No bridge for the frame's VLAN.
    NoBridge,
    /// The source MAC is multicast or zero (IEEE 802.1Q §8.7: never learned, never valid).
    BadSrcMac,
    /// The destination is behind the port the frame came from (filtered, IEEE 802.1Q §8.6.3).
    SamePort,
    /// Larger than the ingress or egress MTU.
    MtuExceeded,
    /// On the uplink, addressed to something other than our VTEP; or addressed to an SVI
    /// (its MAC, or its address) in a protocol it does not answer, or as an ARP request for
    /// another address.
    NotForUs,
    /// A tunnel packet for a VNI no bridge has.
    UnknownVni,
    /// A tunnel packet from a remote VTEP that is neither configured nor learnable; or a
    /// frame to a remote VTEP number the switch's table no longer has (a stale action).
    UnknownVtep,
    /// The underlay next hop's MAC is not resolved yet (an ARP request went out).
    NeighbourUnresolved,
    /// A decapsulated frame carried a VLAN tag (RFC 7348 §6.1: SHOULD be discarded).
    InnerVlan,
    /// The frame arrived on a port id the switch does not have (removed while in flight).
    UnknownPort,
    /// Routed, but no route matches the destination (an ICMP unreachable went back).
    NoRoute,
    /// To a reserved group address 01:80:C2:00:00:00-0F (STP, PAUSE, LACP, 802.1X, LLDP):
    /// link-local to one link, never forwarded by a bridge (IEEE 802.1Q Table 8-1).
    ReservedGroup,
    /// Routed, but from or to an address no router forwards (`dpu_wire::addr::is_martian_v4`,
    /// `is_martian_v6`), or a directed broadcast: dropped without an ICMP error, as Linux
    /// drops martians. Also an overlay packet whose outer source is not a remote unicast
    /// address (`is_single_host_v4`, RFC 1122 §3.2.1.3).
    Martian,
    /// A decapsulated packet whose outer header says Congestion Experienced while the
    /// inner says its transport does not speak ECN: the mark cannot be passed on, so it is
    /// dropped (RFC 6040 §4.2).
    EcnCeNotEct,
}

impl DropReason {
    /// Pipeline-specific reasons (the wire reasons come first in [`DropReason::all`]).
    const OWN: [DropReason; 16] = [
        DropReason::PortDown,
        DropReason::VlanNotAllowed,
        DropReason::NoBridge,
        DropReason::BadSrcMac,
        DropReason::SamePort,
        DropReason::MtuExceeded,
        DropReason::NotForUs,
        DropReason::UnknownVni,
        DropReason::UnknownVtep,
        DropReason::NeighbourUnresolved,
        DropReason::InnerVlan,
        DropReason::UnknownPort,
        DropReason::NoRoute,
        DropReason::ReservedGroup,
        DropReason::Martian,
        DropReason::EcnCeNotEct,
    ];

    /// Number of distinct reasons.
    pub const COUNT: usize = dpu_wire::Error::ALL.len() + Self::OWN.len();

    /// Every reason, wire reasons first.
    pub fn all() -> impl Iterator<Item = DropReason> {
        dpu_wire::Error::ALL.into_iter().map(DropReason::Wire).chain(Self::OWN)
    }

    /// Stable `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Wire(e) => e.as_str(),
            DropReason::PortDown => "port_down",
            DropReason::VlanNotAllowed => "vlan_not_allowed",
            DropReason::NoBridge => "no_bridge",
            DropReason::BadSrcMac => "bad_src_mac",
            DropReason::SamePort => "same_port",
            DropReason::MtuExceeded => "mtu_exceeded",
            DropReason::NotForUs => "not_for_us",
            DropReason::UnknownVni => "unknown_vni",
            DropReason::UnknownVtep => "unknown_vtep",
            DropReason::NeighbourUnresolved => "neighbour_unresolved",
            DropReason::InnerVlan => "inner_vlan",
            DropReason::UnknownPort => "unknown_port",
            DropReason::NoRoute => "no_route",
            DropReason::ReservedGroup => "reserved_group",
            DropReason::Martian => "martian",
            DropReason::EcnCeNotEct => "ecn_ce_not_ect",
        }
    }

    fn index(self) -> usize {
        match self {
            DropReason::Wire(e) => {
                // `Error` is non-exhaustive: a reason added later counts as `unsupported`
                // until listed in `Error::ALL`.
                dpu_wire::Error::ALL.iter().position(|x| *x == e).unwrap_or(11)
            }
            own => {
                dpu_wire::Error::ALL.len() + Self::OWN.iter().position(|x| *x == own).unwrap_or(0)
            }
        }
    }
}

impl From<dpu_wire::Error> for DropReason {
    fn from(e: dpu_wire::Error) -> Self {
        DropReason::Wire(e)
    }
}

/// Drop counts by reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropCounts([u64; DropReason::COUNT]);

impl Default for DropCounts {
    fn default() -> Self {
        DropCounts([0; DropReason::COUNT])
    }
}

impl DropCounts {
    /// Counts one drop.
    pub fn add(&mut self, r: DropReason) {
        if let Some(c) = self.0.get_mut(r.index()) {
            *c += 1;
        }
    }

    /// The count for one reason.
    pub fn get(&self, r: DropReason) -> u64 {
        self.0.get(r.index()).copied().unwrap_or(0)
    }

    /// Total over all reasons.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Non-zero counts by name.
    pub fn to_map(&self) -> BTreeMap<&'static str, u64> {
        DropReason::all().map(|r| (r.as_str(), self.get(r))).filter(|(_, n)| *n > 0).collect()
    }
}

/// Counters of one port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortCounters {
    /// Frames received.
    pub rx_packets: u64,
    /// Octets received.
    pub rx_bytes: u64,
    /// Frames sent (a TCP super-frame as the segments it stands for): counted as the
    /// pipeline hands them over, and taken out again for those the port then drops.
    pub tx_packets: u64,
    /// Octets sent, as `tx_packets`.
    pub tx_bytes: u64,
    /// Frames meant for this port and not sent, as Linux and Open vSwitch count an
    /// interface's: those the pipeline dropped on their way out ([`Self::tx_drops`]) and
    /// those the port could not send (its transmit queue full, a send error, the port not
    /// open). In neither `tx_packets` nor `tx_bytes`. A TCP super-frame counts once.
    pub tx_dropped: u64,
    /// Of `tx_dropped`, those the pipeline dropped on their way out, by reason: the port
    /// down, larger than its MTU; on the uplink, also once encapsulated, and an unresolved
    /// next hop, an unknown remote VTEP, an encapsulation error.
    pub tx_drops: DropCounts,
    /// Frames received on this port and dropped before any output, by reason.
    pub drops: DropCounts,
}

/// Frames a port was handed and could not send, with the segments and octets they stood
/// for on the wire (what the pipeline counted in its `tx_packets` and `tx_bytes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxDrops {
    /// Frames (a TCP super-frame once).
    pub frames: u64,
    /// Segments they stood for ([`PacketBuf::segments`]).
    pub segments: u64,
    /// Octets they stood for ([`PacketBuf::wire_bytes`]).
    pub bytes: u64,
}

impl TxDrops {
    /// The drops of `frames`, all of them unsent.
    pub fn of<'a>(frames: impl IntoIterator<Item = &'a PacketBuf>) -> Self {
        let mut d = TxDrops::default();
        for f in frames {
            d.frames += 1;
            d.segments += f.segments();
            d.bytes += f.wire_bytes();
        }
        d
    }
}

impl std::ops::AddAssign for TxDrops {
    fn add_assign(&mut self, o: TxDrops) {
        self.frames += o.frames;
        self.segments += o.segments;
        self.bytes += o.bytes;
    }
}

/// A serialisable snapshot of [`PortCounters`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PortCountersView {
    /// Frames received.
    pub rx_packets: u64,
    /// Octets received.
    pub rx_bytes: u64,
    /// Frames sent, those the port dropped not included.
    pub tx_packets: u64,
    /// Octets sent, those the port dropped not included.
    pub tx_bytes: u64,
    /// Frames meant for the port and not sent.
    pub tx_dropped: u64,
    /// Of them, the pipeline's, by reason (non-zero counts).
    pub tx_drops: BTreeMap<&'static str, u64>,
    /// All drops of received frames.
    pub drops_total: u64,
    /// Non-zero drop counts by reason.
    pub drops: BTreeMap<&'static str, u64>,
}

impl PortCounters {
    /// A snapshot.
    pub fn view(&self) -> PortCountersView {
        PortCountersView {
            rx_packets: self.rx_packets,
            rx_bytes: self.rx_bytes,
            tx_packets: self.tx_packets,
            tx_bytes: self.tx_bytes,
            tx_dropped: self.tx_dropped,
            tx_drops: self.tx_drops.to_map(),
            drops_total: self.drops.total(),
            drops: self.drops.to_map(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_slot_and_name() {
        let mut seen = std::collections::HashSet::new();
        for r in DropReason::all() {
            assert!(seen.insert(r.index()), "{r:?}");
            assert!(r.index() < DropReason::COUNT);
        }
        assert_eq!(seen.len(), DropReason::COUNT);
        let names: std::collections::HashSet<_> = DropReason::all().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), DropReason::COUNT);
        let mut d = DropCounts::default();
        d.add(DropReason::Wire(dpu_wire::Error::Truncated));
        d.add(DropReason::NoBridge);
        d.add(DropReason::NoBridge);
        assert_eq!(d.total(), 3);
        assert_eq!(d.to_map().get("no_bridge"), Some(&2));
        assert_eq!(d.to_map().get("truncated"), Some(&1));
    }
}
