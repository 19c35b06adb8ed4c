//! The flow cache: exact match on the parsed key of a frame, mapping to a compiled action
//! (the "megaflow-less" exact-match cache of OVS, the UFT of OPTE).
//!
//! The first frame of a flow takes the slow path (classification, learning, lookup of the
//! MAC table) and installs the compiled [`Verdict`]; later frames take one hash lookup.
//! Every entry records the epochs it was computed under: the switch's configuration epoch
//! and its bridge's epoch (bumped when the bridge's MAC table changes), or for a routed
//! entry the epoch of what its verdict depends on (the switch's `Epochs::routed`). A lookup
//! that finds an entry from an older epoch treats it as a miss, so a configuration or MAC
//! change takes effect on the very next frame of every affected flow, and on no other. A full cache evicts the entry idle
//! longest among a few for each new flow, so it never stops taking new ones.

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_wire::MacAddr;
use dpu_wire::dissect::{FrameInfo, L4Info};

use crate::counters::DropReason;
use crate::fastkey::PlainFrame;
use crate::packet::PortId;

/// Default number of entries.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// A full cache evicts the entry idle longest among this many, the next ones in bucket order
/// after the previous eviction's (a clock hand): a bounded cost per install, and a flow that
/// keeps being hit is never the one that goes.
const EVICTION_SAMPLE: usize = 8;

/// Entries one install evicts at most. One keeps a full cache full; the second lets a cache
/// whose capacity was lowered below the entries it holds shrink at each install until the
/// next sweep trims the rest ([`FlowCache::sweep`]): evicting all of the excess inside one
/// install, on the packet path, stalled the datapath (4M entries lowered to 65,536 took
/// ~260M bucket visits, about a second).
const EVICTIONS_PER_INSTALL: usize = 2;

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
}

/// 48 bits of a MAC address.
fn mac_bits(m: MacAddr) -> u64 {
    let [a, b, c, d, e, f] = m.0;
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

/// The MAC address in the low 48 bits of `bits`.
fn mac_of(bits: u64) -> MacAddr {
    let [_, _, a, b, c, d, e, f] = bits.to_be_bytes();
    MacAddr([a, b, c, d, e, f])
}

/// An IP address as 128 bits plus its kind (0 none, 1 IPv4, 2 IPv6).
fn ip_bits(ip: Option<IpAddr>) -> (u128, u64) {
    match ip {
        None => (0, 0),
        Some(IpAddr::V4(a)) => (u128::from(u32::from(a)), 1),
        Some(IpAddr::V6(a)) => (u128::from(a), 2),
    }
}

fn ip_of(bits: u128, kind: u64) -> Option<IpAddr> {
    match kind {
        1 => Some(IpAddr::V4(Ipv4Addr::from(bits as u32))),
        2 => Some(IpAddr::V6(Ipv6Addr::from(bits))),
        _ => None,
    }
}

/// A [`FlowKey`] packed into eight words: what the cache stores, hashes and compares. On the
/// hit path, equality is one 64-octet compare instead of a walk through the key's options and
/// enums (perf put the derived compare at a tenth of a cached frame), and the hash takes
/// whole words. Lossless: [`PackedKey::unpack`] gives the key back.
///
/// Words: 0 the small fields and the kinds of the optional ones, 1 and 2 the MAC addresses
/// with one port each, 3 the tunnel, 4 and 5 the low and high halves of the IP source,
/// 6 and 7 those of the IP destination (the high halves are zero but for IPv6).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PackedKey([u64; 8]);

/// Word by word, without branches: the derived compare of the array became a call to the C
/// library's `memcmp` (perf: 7 % of a cached frame).
impl PartialEq for PackedKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.iter().zip(&other.0).fold(0, |diff, (a, b)| diff | (a ^ b)) == 0
    }
}

impl Eq for PackedKey {}

const SRC_KIND_SHIFT: u32 = 57;
const DST_KIND_SHIFT: u32 = 59;
const TUNNEL_BIT: u64 = 1 << 61;
const TAGGED_BIT: u64 = 1 << 56;
/// The bits of word 0 that say where the frame came from ([`ingress_bits`]).
const INGRESS_MASK: u64 = 0xffff_ffff | TAGGED_BIT | TUNNEL_BIT;
/// Either IP address is IPv6 (kind 2): the high halves may be non-zero.
const ANY_V6: u64 = (2 << SRC_KIND_SHIFT) | (2 << DST_KIND_SHIFT);

/// The part of word 0 a frame gives: EtherType, protocol, the kinds of the addresses.
fn frame_bits(ethertype: u16, protocol: u8, src_kind: u64, dst_kind: u64) -> u64 {
    (u64::from(ethertype) << 32)
        | (u64::from(protocol) << 48)
        | (src_kind << SRC_KIND_SHIFT)
        | (dst_kind << DST_KIND_SHIFT)
}

/// The part of word 0 where the frame came from: port, bridge, tag, tunnel.
fn ingress_bits(in_port: PortId, bridge: u16, tagged: bool, tunnel: bool) -> u64 {
    u64::from(in_port.0)
        | (u64::from(bridge) << 16)
        | if tagged { TAGGED_BIT } else { 0 }
        | if tunnel { TUNNEL_BIT } else { 0 }
}

/// The words of the key of a plain frame as far as the frame gives them (the ingress bits
/// and the tunnel word zero): what the hit-path extractor reads, completed by
/// [`PackedKey::from_plain`]. MACs are 48-bit numbers; `ips` are the source and destination
/// as 128-bit numbers, each low half then high half.
pub(crate) fn plain_words(
    ethertype: u16,
    protocol: u8,
    v6: bool,
    (dst, src): (u64, u64),
    ports: (u16, u16),
    ips: [u64; 4],
) -> [u64; 8] {
    let kind = if v6 { 2 } else { 1 };
    let [src_lo, src_hi, dst_lo, dst_hi] = ips;
    [
        frame_bits(ethertype, protocol, kind, kind),
        dst | (u64::from(ports.0) << 48),
        src | (u64::from(ports.1) << 48),
        0,
        src_lo,
        src_hi,
        dst_lo,
        dst_hi,
    ]
}

/// Word 3: the tunnel's VNI and remote VTEP.
fn tunnel_word(tunnel: Option<(u32, Ipv4Addr)>) -> u64 {
    tunnel.map_or(0, |(vni, ip)| (u64::from(vni) << 32) | u64::from(u32::from(ip)))
}

impl PackedKey {
    pub fn pack(k: &FlowKey) -> Self {
        let (src_ip, src_kind) = ip_bits(k.src_ip);
        let (dst_ip, dst_kind) = ip_bits(k.dst_ip);
        PackedKey([
            frame_bits(k.ethertype, k.protocol, src_kind, dst_kind)
                | ingress_bits(k.in_port, k.bridge, k.tagged, k.tunnel.is_some()),
            mac_bits(k.dst) | (u64::from(k.l4.0) << 48),
            mac_bits(k.src) | (u64::from(k.l4.1) << 48),
            tunnel_word(k.tunnel),
            src_ip as u64,
            (src_ip >> 64) as u64,
            dst_ip as u64,
            (dst_ip >> 64) as u64,
        ])
    }

    /// The key of a frame read by the hit-path extractor: the same as packing the key
    /// [`FlowKey::new`] gives for it (tested in `fastkey`), without building that key.
    pub fn from_plain(
        in_port: PortId,
        tunnel: Option<(u32, Ipv4Addr)>,
        tagged: bool,
        bridge: u16,
        p: &PlainFrame,
    ) -> Self {
        let mut w = p.key;
        w[0] |= ingress_bits(in_port, bridge, tagged, tunnel.is_some());
        w[3] = tunnel_word(tunnel);
        PackedKey(w)
    }

    fn field(&self, word: usize, shift: u32, bits: u32) -> u64 {
        (self.0[word] >> shift) & ((1 << bits) - 1)
    }

    pub fn bridge(&self) -> u16 {
        self.field(0, 16, 16) as u16
    }

    pub fn tagged(&self) -> bool {
        self.0[0] & TAGGED_BIT != 0
    }

    pub fn ethertype(&self) -> u16 {
        self.field(0, 32, 16) as u16
    }

    pub fn protocol(&self) -> u8 {
        self.field(0, 48, 8) as u8
    }

    pub fn dst(&self) -> MacAddr {
        mac_of(self.0[1])
    }

    pub fn src(&self) -> MacAddr {
        mac_of(self.0[2])
    }

    /// A hash of the inner flow only (addresses, EtherType, protocol, ports; not the ingress
    /// or tunnel), the same in every run: the source of the outer UDP source port (RFC 7348
    /// §5). Computed where a frame is encapsulated rather than stored with the flow.
    pub fn entropy(&self) -> u16 {
        const INNER_FLOW: foldhash::quality::FixedState =
            foldhash::quality::FixedState::with_seed(0x7348_0005);
        let w = &self.0;
        let frame = w[0] & !(INGRESS_MASK);
        let v = INNER_FLOW.hash_one([frame, w[1], w[2], w[4], w[5], w[6], w[7]]);
        dpu_wire::vxlan::source_port((v ^ (v >> 32)) as u32)
    }

    pub fn unpack(&self) -> FlowKey {
        let w = &self.0;
        let ip = |lo: u64, hi: u64| (u128::from(hi) << 64) | u128::from(lo);
        FlowKey {
            in_port: PortId(self.field(0, 0, 16) as u16),
            tunnel: (w[0] & TUNNEL_BIT != 0)
                .then(|| ((w[3] >> 32) as u32, Ipv4Addr::from(w[3] as u32))),
            tagged: self.tagged(),
            bridge: self.bridge(),
            dst: self.dst(),
            src: self.src(),
            ethertype: self.ethertype(),
            src_ip: ip_of(ip(w[4], w[5]), self.field(0, SRC_KIND_SHIFT, 2)),
            dst_ip: ip_of(ip(w[6], w[7]), self.field(0, DST_KIND_SHIFT, 2)),
            protocol: self.protocol(),
            l4: ((w[1] >> 48) as u16, (w[2] >> 48) as u16),
        }
    }
}

/// Four 128-bit writes, three without IPv6 (whose high address halves are then zero): each
/// is one multiply of the hasher. Equal keys have equal words, so they hash equally.
impl Hash for PackedKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let pair = |a: u64, b: u64| (u128::from(b) << 64) | u128::from(a);
        let w = &self.0;
        h.write_u128(pair(w[0], w[1]));
        h.write_u128(pair(w[2], w[3]));
        h.write_u128(pair(w[4], w[6]));
        if w[0] & ANY_V6 != 0 {
            h.write_u128(pair(w[5], w[7]));
        }
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
    /// Route (IPv4 or IPv6): check the header, decrement the TTL (hop limit), rewrite the
    /// MAC addresses, then send to the outputs in the egress bridge. The SVI the frame came
    /// in on (the source of ICMP errors) is its bridge's.
    Route {
        /// The egress SVI's MAC.
        src_mac: MacAddr,
        /// The next hop's MAC.
        dst_mac: MacAddr,
        /// The egress bridge (index): the entry goes stale with its MAC table.
        bridge: u16,
        /// Outputs in the egress bridge.
        outs: Outs,
    },
}

/// A cached flow: its verdict, the epochs it was computed under, its counters and times.
///
/// Exactly one cache line, and aligned to one, so that with its 64-octet key a table bucket
/// is two whole lines: a hit reads the key's line and this one (168-octet buckets straddled
/// three or four). Hence the narrow fields: epochs are kept as 32-bit stamps ([`stamp`]),
/// times as milliseconds (last use) and seconds (creation) since the cache's start.
#[derive(Debug, Clone)]
#[repr(align(64))]
pub(crate) struct FlowEntry {
    pub verdict: Verdict,
    config_stamp: u32,
    bridge_stamp: u32,
    pub packets: u64,
    pub bytes: u64,
    /// [`Clock::millis`] of the last hit (wrapping; the idle sweep bounds how far back).
    last_used_ms: u32,
    /// [`Clock::secs`] of the install.
    created_s: u32,
}

/// An epoch narrowed to 32 bits, its top bit (the switch's routed mark) kept. Sound because
/// an entry is compared with a current epoch at every hit and swept after [`FLOW_IDLE`] of
/// disuse: a wrong match would need 2^31 epoch changes between two hits of one flow within
/// that time, where each change is a MAC learned or a configuration applied.
///
/// [`FLOW_IDLE`]: crate::FLOW_IDLE
pub(crate) fn stamp(epoch: u64) -> u32 {
    ((epoch >> 32) as u32 & 0x8000_0000) | (epoch as u32 & 0x7fff_ffff)
}

// The layout the doc comment above promises.
const _: () = assert!(size_of::<FlowEntry>() == 64 && align_of::<FlowEntry>() == 64);

impl FlowEntry {
    /// Whether the entry was computed under these epochs.
    pub fn computed_under(&self, config_epoch: u64, bridge_epoch: u64) -> bool {
        self.config_stamp == stamp(config_epoch) && self.bridge_stamp == stamp(bridge_epoch)
    }

    /// Its age and idle time at the clock reading `now`; idle zero for a hit later than
    /// `now` (another worker's burst may have read its clock after the caller did).
    fn times(&self, now: Reading) -> (Duration, Duration) {
        let age = now.secs.saturating_sub(self.created_s);
        (Duration::from_secs(u64::from(age)), Duration::from_millis(self.idle_ms(now).into()))
    }

    /// Its idle time in milliseconds at the clock reading `now` (see [`Self::times`]).
    fn idle_ms(&self, now: Reading) -> u32 {
        // Read as a signed difference: the stored time wraps, and may be ahead of `now`.
        (now.millis.wrapping_sub(self.last_used_ms) as i32).max(0) as u32
    }
}

/// An instant as the cache's [`Clock`] counts it, converted once for a whole sweep or listing.
#[derive(Debug, Clone, Copy)]
struct Reading {
    millis: u32,
    secs: u32,
}

/// The cache's time base: instants as milliseconds and seconds since its start. The last
/// instant converted is remembered, so that a burst (one `now` for all its frames) converts
/// once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
    last: (Instant, u32),
}

impl Clock {
    fn new() -> Self {
        let start = Instant::now();
        Clock { start, last: (start, 0) }
    }

    /// Milliseconds since the start, wrapping after 49 days (only differences are used).
    fn millis(&self, now: Instant) -> u32 {
        now.saturating_duration_since(self.start).as_millis() as u32
    }

    fn secs(&self, now: Instant) -> u32 {
        u32::try_from(now.saturating_duration_since(self.start).as_secs()).unwrap_or(u32::MAX)
    }

    fn read(&self, now: Instant) -> Reading {
        Reading { millis: self.millis(now), secs: self.secs(now) }
    }

    #[inline]
    fn millis_cached(&mut self, now: Instant) -> u32 {
        if self.last.0 != now {
            self.last = (now, self.millis(now));
        }
        self.last.1
    }
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
    /// Entries the periodic sweep removed: idle for the idle time, or stale (from an older
    /// epoch: a MAC, neighbour or configuration they depend on changed) and not looked up
    /// since (a lookup counts one as `invalidated` instead).
    pub expired: u64,
    /// Installs that found the cache full (each then made room: `evicted`).
    pub full: u64,
    /// Entries evicted to make room for a new flow in a full cache: the one idle longest among
    /// a few (as OVS evicts above its flow limit), so one port cycling through made-up flows
    /// cannot keep every other port's new flows on the slow path. One per full install; after
    /// the capacity was lowered below the entries held, two per install and the rest of the
    /// excess at the next sweep.
    pub evicted: u64,
}

/// A flow as listed: its key, entry, age and idle time.
pub(crate) type Listed<'a> = (FlowKey, &'a FlowEntry, Duration, Duration);

#[derive(Debug)]
pub(crate) struct FlowCache {
    map: hashbrown::HashTable<(PackedKey, FlowEntry)>,
    hasher: foldhash::quality::RandomState,
    /// The bucket where the next eviction's sample starts.
    hand: usize,
    clock: Clock,
    /// [`Clock::millis`] of the last sweep.
    swept_ms: u32,
    pub stats: FlowStats,
}

impl FlowCache {
    pub fn new(capacity: usize) -> Self {
        FlowCache {
            map: hashbrown::HashTable::new(),
            hasher: foldhash::quality::RandomState::default(),
            hand: 0,
            clock: Clock::new(),
            swept_ms: 0,
            stats: FlowStats { capacity: capacity.max(1), ..FlowStats::default() },
        }
    }

    /// Sets the capacity; entries above a lowered one go at the next [`Self::sweep`] (and
    /// at most two per install until then), never all inside one install.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.stats.capacity = capacity.max(1);
    }

    /// Looks `key` up; an entry computed under `config_epoch` and the epoch `epoch` gives
    /// for its verdict (none: never current) is counted (`len` octets) and `read` gets its
    /// verdict. The verdict is lent, not cloned: the caller takes what it needs from the
    /// entry itself (a cloned verdict read back was a store-forwarding stall).
    #[inline]
    pub fn lookup<R>(
        &mut self,
        key: &PackedKey,
        config_epoch: u64,
        epoch: impl FnOnce(&Verdict) -> Option<u64>,
        now: Instant,
        len: usize,
        read: impl FnOnce(&Verdict) -> R,
    ) -> Option<R> {
        let now_ms = self.clock.millis_cached(now);
        let hash = self.hasher.hash_one(key);
        match self.map.find_mut(hash, |(k, _)| k == key) {
            Some((_, e))
                if epoch(&e.verdict).is_some_and(|ep| e.computed_under(config_epoch, ep)) =>
            {
                self.stats.hits += 1;
                e.packets += 1;
                e.bytes += len as u64;
                e.last_used_ms = now_ms;
                Some(read(&e.verdict))
            }
            Some(_) => {
                self.stats.invalidated += 1;
                if let Ok(e) = self.map.find_entry(hash, |(k, _)| k == key) {
                    e.remove();
                }
                None
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Installs an entry for the frame that just took the slow path (counted as its first).
    pub fn insert(
        &mut self,
        key: PackedKey,
        verdict: Verdict,
        config_epoch: u64,
        bridge_epoch: u64,
        now: Instant,
        len: usize,
    ) {
        let entry = FlowEntry {
            verdict,
            config_stamp: stamp(config_epoch),
            bridge_stamp: stamp(bridge_epoch),
            packets: 1,
            bytes: len as u64,
            last_used_ms: self.clock.millis_cached(now),
            created_s: self.clock.secs(now),
        };
        let hash = self.hasher.hash_one(key);
        if let Some((_, e)) = self.map.find_mut(hash, |(k, _)| *k == key) {
            *e = entry;
            return;
        }
        if self.map.len() >= self.stats.capacity {
            self.stats.full += 1;
            for _ in 0..EVICTIONS_PER_INSTALL {
                if self.map.len() < self.stats.capacity || !self.evict(now) {
                    break;
                }
            }
        }
        let hasher = &self.hasher;
        self.map.insert_unique(hash, (key, entry), |(k, _)| hasher.hash_one(k));
        self.stats.entries = self.map.len();
    }

    /// Removes the entry idle longest among the next [`EVICTION_SAMPLE`] after the hand
    /// (the first of equals); false when the cache is empty. Buckets are visited in order, so
    /// a revolution samples every entry once.
    fn evict(&mut self, now: Instant) -> bool {
        let reading = self.clock.read(now);
        let buckets = self.map.num_buckets();
        let mut oldest: Option<(usize, u32)> = None;
        let mut sampled = 0;
        for step in 0..buckets {
            let i = (self.hand + step) % buckets;
            let Some((_, e)) = self.map.get_bucket(i) else { continue };
            let idle = e.idle_ms(reading);
            if oldest.is_none_or(|(_, most)| idle > most) {
                oldest = Some((i, idle));
            }
            sampled += 1;
            if sampled == EVICTION_SAMPLE {
                self.hand = (i + 1) % buckets;
                break;
            }
        }
        let Some(Ok(e)) = oldest.map(|(i, _)| self.map.get_bucket_entry(i)) else { return false };
        e.remove();
        self.stats.evicted += 1;
        true
    }

    /// Whether `every` has passed since the last [`Self::sweep`] (or the cache's start).
    pub fn sweep_due(&self, now: Instant, every: Duration) -> bool {
        let since = self.clock.millis(now).wrapping_sub(self.swept_ms);
        u128::from(since) >= every.as_millis()
    }

    /// Removes entries idle for `idle` or that `keep` refuses, then, when the capacity was
    /// lowered below the entries left, the idle longest of them down to it (counted as
    /// evicted). `keep` also gets the time of an entry's last hit when that came after the
    /// previous sweep.
    pub fn sweep(
        &mut self,
        now: Instant,
        idle: Duration,
        mut keep: impl FnMut(&PackedKey, &FlowEntry, Option<Instant>) -> bool,
    ) {
        let before = self.map.len();
        let reading = self.clock.read(now);
        let since_sweep = std::mem::replace(&mut self.swept_ms, reading.millis);
        let since_sweep =
            Duration::from_millis(u64::from(reading.millis.wrapping_sub(since_sweep)));
        self.map.retain(|(k, e)| {
            let idle_for = e.times(reading).1;
            let recent = (idle_for <= since_sweep).then(|| now.checked_sub(idle_for)).flatten();
            keep(k, e, recent) && idle_for < idle
        });
        self.stats.expired += (before - self.map.len()) as u64;
        self.trim(reading);
        self.stats.entries = self.map.len();
        // After the capacity was lowered, give the room back: eviction's sample walks the
        // buckets, so they must not stay far more than the entries a full cache holds.
        if self.map.capacity() > 2 * self.stats.capacity {
            let hasher = &self.hasher;
            self.map.shrink_to(self.stats.capacity, |(k, _)| hasher.hash_one(k));
        }
    }

    /// Evicts the entries idle longest until the cache holds its capacity: one selection
    /// over the idle times and one pass, O(entries), however large the excess.
    fn trim(&mut self, reading: Reading) {
        let excess = self.map.len().saturating_sub(self.stats.capacity);
        if excess == 0 {
            return;
        }
        let before = self.map.len();
        let mut idle: Vec<u32> = self.map.iter().map(|(_, e)| e.idle_ms(reading)).collect();
        // The excess-th longest idle time: every entry idle longer goes, and as many idle
        // exactly that long as make up the excess.
        let (_, &mut threshold, _) = idle.select_nth_unstable_by(excess - 1, |a, b| b.cmp(a));
        let mut ties = excess - idle.iter().filter(|&&i| i > threshold).count();
        self.map.retain(|(_, e)| {
            let i = e.idle_ms(reading);
            if i == threshold && ties > 0 {
                ties -= 1;
                return false;
            }
            i <= threshold
        });
        self.stats.evicted += (before - self.map.len()) as u64;
    }

    pub fn stats(&self) -> FlowStats {
        FlowStats { entries: self.map.len(), ..self.stats }
    }

    /// One page of entries with their age and idle time at `now`, from slot `start` on
    /// ([`crate::paging::page`]), and the slot the next page starts at.
    pub fn page(
        &self,
        now: Instant,
        start: usize,
        size: usize,
    ) -> (Vec<Listed<'_>>, Option<usize>) {
        let reading = self.clock.read(now);
        let (items, next) = crate::paging::page(&self.map, start, size);
        let items = items
            .into_iter()
            .map(|(k, e)| {
                let (age, idle) = e.times(reading);
                (k.unpack(), e, age, idle)
            })
            .collect();
        (items, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys that differ in every field, one at a time, with each kind of the optional ones.
    fn keys() -> Vec<FlowKey> {
        let base = FlowKey {
            in_port: PortId(3),
            tunnel: None,
            tagged: false,
            bridge: 7,
            dst: MacAddr([2, 0, 0, 0, 0, 2]),
            src: MacAddr([2, 0, 0, 0, 0, 1]),
            ethertype: 0x0800,
            src_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            dst_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))),
            protocol: 17,
            l4: (4321, 53),
        };
        let v6 = |n: u16| Some(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0xffff, n)));
        let all_ones = MacAddr([0xff; 6]);
        vec![
            base,
            FlowKey { in_port: PortId(u16::MAX), ..base },
            FlowKey { tunnel: Some((0x00ff_ffff, Ipv4Addr::new(198, 51, 100, 2))), ..base },
            FlowKey { tunnel: Some((0, Ipv4Addr::UNSPECIFIED)), ..base },
            FlowKey { tagged: true, ..base },
            FlowKey { bridge: u16::MAX, ..base },
            FlowKey { dst: all_ones, ..base },
            FlowKey { src: all_ones, ..base },
            FlowKey { ethertype: 0x86dd, src_ip: v6(1), dst_ip: v6(2), ..base },
            FlowKey { src_ip: v6(1), ..base },
            FlowKey { dst_ip: v6(2), ..base },
            FlowKey { src_ip: Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), ..base },
            FlowKey { src_ip: None, dst_ip: None, protocol: 0, l4: (0, 0), ..base },
            FlowKey { protocol: u8::MAX, ..base },
            FlowKey { l4: (u16::MAX, u16::MAX), ..base },
            FlowKey { l4: (0, 0), ..base },
        ]
    }

    #[test]
    fn packing_is_lossless_and_keeps_keys_apart() {
        let keys = keys();
        for (i, a) in keys.iter().enumerate() {
            assert_eq!(PackedKey::pack(a).unpack(), *a, "round trip of {a:?}");
            for b in &keys[i + 1..] {
                assert_ne!(PackedKey::pack(a), PackedKey::pack(b), "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn cache_finds_each_key_and_only_it() {
        let now = Instant::now();
        let mut cache = FlowCache::new(64);
        let keys = keys();
        for (i, k) in keys.iter().enumerate() {
            let out = Out::Port { port: PortId(i as u16), tag: None };
            cache.insert(PackedKey::pack(k), Verdict::Forward(Outs::one(out)), 1, 1, now, 60);
        }
        for (i, k) in keys.iter().enumerate() {
            let got = cache.lookup(&PackedKey::pack(k), 1, |_| Some(1), now, 60, Verdict::clone);
            let out = Out::Port { port: PortId(i as u16), tag: None };
            assert_eq!(got, Some(Verdict::Forward(Outs::one(out))), "{k:?}");
        }
        let listed: Vec<FlowKey> =
            cache.page(now, 0, 1000).0.into_iter().map(|(k, ..)| k).collect();
        assert_eq!(listed.len(), keys.len());
        assert!(keys.iter().all(|k| listed.contains(k)));
    }

    #[test]
    fn a_full_cache_evicts_the_entry_idle_longest() {
        let t0 = Instant::now();
        let keys: Vec<PackedKey> = keys().iter().map(PackedKey::pack).collect();
        let verdict = Verdict::Drop(DropReason::SamePort);
        let mut cache = FlowCache::new(4);
        for k in &keys[..4] {
            cache.insert(*k, verdict.clone(), 1, 1, t0, 60);
        }
        // All but the third are hit later; a fifth flow takes the third's place.
        let t1 = t0 + Duration::from_secs(1);
        for k in [0, 1, 3] {
            assert!(cache.lookup(&keys[k], 1, |_| Some(1), t1, 60, |_| ()).is_some());
        }
        cache.insert(keys[4], verdict.clone(), 1, 1, t1, 60);
        let s = cache.stats();
        assert_eq!((s.entries, s.full, s.evicted), (4, 1, 1));
        for (k, cached) in [(0, true), (1, true), (2, false), (3, true), (4, true)] {
            assert_eq!(
                cache.lookup(&keys[k], 1, |_| Some(1), t1, 60, |_| ()).is_some(),
                cached,
                "{k}"
            );
        }
        // Under a lowered capacity an install evicts two at most, the idle longest; the
        // next sweep trims the rest, again the idle longest.
        cache.set_capacity(2);
        let t2 = t1 + Duration::from_secs(1);
        for k in [3, 4] {
            assert!(cache.lookup(&keys[k], 1, |_| Some(1), t2, 60, |_| ()).is_some());
        }
        cache.insert(keys[5], verdict, 1, 1, t2, 60);
        let s = cache.stats();
        assert_eq!((s.entries, s.full, s.evicted), (3, 2, 3));
        for (k, cached) in [(0, false), (1, false), (3, true), (4, true), (5, true)] {
            assert_eq!(
                cache.lookup(&keys[k], 1, |_| Some(1), t2, 60, |_| ()).is_some(),
                cached,
                "{k}"
            );
        }
        let t3 = t2 + Duration::from_secs(1);
        for k in [4, 5] {
            assert!(cache.lookup(&keys[k], 1, |_| Some(1), t3, 60, |_| ()).is_some());
        }
        cache.sweep(t3, Duration::from_secs(30), |_, _, _| true);
        let s = cache.stats();
        assert_eq!((s.entries, s.full, s.evicted, s.expired), (2, 2, 4, 0));
        for (k, cached) in [(3, false), (4, true), (5, true)] {
            assert_eq!(
                cache.lookup(&keys[k], 1, |_| Some(1), t3, 60, |_| ()).is_some(),
                cached,
                "{k}"
            );
        }
    }

    /// A cache lowered far below the entries it holds (4M to the agent's default 65,536)
    /// does not evict the excess inside one install, which is on the packet path: the
    /// install evicts two at most, and the next sweep trims the rest in one pass, the idle
    /// longest going, and gives the table's room back.
    #[test]
    fn a_lowered_capacity_is_trimmed_by_the_sweep_not_by_an_install() {
        let t0 = Instant::now();
        let base = keys()[0];
        let key = |n: u32| PackedKey::pack(&FlowKey { l4: ((n >> 16) as u16, n as u16), ..base });
        let verdict = Verdict::Drop(DropReason::SamePort);
        let mut cache = FlowCache::new(4096);
        for n in 0..4096 {
            cache.insert(key(n), verdict.clone(), 1, 1, t0 + Duration::from_millis(n.into()), 60);
        }
        let t1 = t0 + Duration::from_secs(5);
        cache.set_capacity(2);
        cache.insert(key(5000), verdict.clone(), 1, 1, t1, 60);
        let s = cache.stats();
        assert!(s.evicted <= 2, "an install evicted {} entries", s.evicted);
        assert_eq!(s.full, 1);
        cache.sweep(t1, Duration::from_secs(30), |_, _, _| true);
        let s = cache.stats();
        assert_eq!((s.entries, s.evicted, s.expired), (2, 4095, 0));
        // The newest flow and the one used last before it stay.
        for n in [5000, 4095] {
            assert!(cache.lookup(&key(n), 1, |_| Some(1), t1, 60, |_| ()).is_some(), "{n}");
        }
        assert!(cache.map.capacity() < 64, "{} buckets kept", cache.map.capacity());
    }

    #[test]
    fn entries_keep_epochs_times_and_go_idle() {
        let mut cache = FlowCache::new(4);
        let t0 = Instant::now();
        let key = PackedKey::pack(&keys()[0]);
        let verdict = Verdict::Drop(DropReason::SamePort);
        let routed = (1 << 63) | 5;
        cache.insert(key, verdict.clone(), 9, routed, t0, 60);
        // Only the epochs it was computed under match; the routed mark counts.
        assert_eq!(stamp(routed) >> 31, 1);
        assert_eq!(cache.lookup(&key, 9, |_| Some(5), t0, 60, Verdict::clone), None);
        cache.insert(key, verdict.clone(), 9, routed, t0, 60);
        assert_eq!(cache.lookup(&key, 10, |_| Some(routed), t0, 60, Verdict::clone), None);
        cache.insert(key, verdict.clone(), 9, routed, t0, 60);
        let t1 = t0 + Duration::from_millis(2500);
        assert_eq!(cache.lookup(&key, 9, |_| Some(routed), t1, 40, Verdict::clone), Some(verdict));
        let t2 = t1 + Duration::from_millis(1500);
        {
            let (_, e, age, idle) = cache.page(t2, 0, 1).0.remove(0);
            assert_eq!((e.packets, e.bytes), (2, 100));
            assert_eq!((age, idle), (Duration::from_secs(4), Duration::from_millis(1500)));
        }
        // A hit timed after the reader's `now` (another worker's burst) counts as idle 0.
        {
            let (.., idle) = cache.page(t0, 0, 1).0.remove(0);
            assert_eq!(idle, Duration::ZERO);
        }
        // Idle for less than the limit it stays, then it goes.
        cache.sweep(t2, Duration::from_secs(2), |_, _, _| true);
        assert_eq!(cache.stats().entries, 1);
        cache.sweep(t1 + Duration::from_secs(2), Duration::from_secs(2), |_, _, _| true);
        assert_eq!((cache.stats().entries, cache.stats().expired), (0, 1));
    }
}
