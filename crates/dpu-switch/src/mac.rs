//! The MAC address table: learning with ageing, static entries, a per-bridge limit
//! (IEEE 802.1Q §8.8, filtering database).

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dpu_wire::MacAddr;
use hashbrown::HashTable;

use crate::packet::PortId;

/// Where a MAC address lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dest {
    /// Behind a local port.
    Port(PortId),
    /// Behind a remote VTEP (its underlay address).
    Vtep(Ipv4Addr),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct MacEntry {
    pub dest: Dest,
    pub last_seen: Instant,
    pub is_static: bool,
}

/// What [`MacTable::learn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Learned {
    /// Known at the same place: only refreshed.
    Refreshed,
    /// New entry.
    New,
    /// The address moved to another port or VTEP.
    Moved,
    /// Not learned: the bridge's table is full.
    LimitReached,
    /// Not learned: a static entry owns the address.
    Static,
}

/// The entries of all bridges, keyed by (bridge index, MAC): a `HashTable` rather than a
/// `HashMap` so that a listing can page in slot order ([`crate::paging`]).
#[derive(Debug, Default)]
struct Entries {
    table: HashTable<((u16, MacAddr), MacEntry)>,
    hasher: foldhash::quality::RandomState,
}

impl Entries {
    fn get(&self, key: (u16, MacAddr)) -> Option<&MacEntry> {
        self.table.find(self.hasher.hash_one(key), |(k, _)| *k == key).map(|(_, e)| e)
    }

    fn get_mut(&mut self, key: (u16, MacAddr)) -> Option<&mut MacEntry> {
        self.table.find_mut(self.hasher.hash_one(key), |(k, _)| *k == key).map(|(_, e)| e)
    }

    /// Inserts or replaces; the entry replaced.
    fn insert(&mut self, key: (u16, MacAddr), entry: MacEntry) -> Option<MacEntry> {
        if let Some(e) = self.get_mut(key) {
            return Some(std::mem::replace(e, entry));
        }
        let hasher = &self.hasher;
        self.table.insert_unique(hasher.hash_one(key), (key, entry), |(k, _)| hasher.hash_one(k));
        None
    }

    fn remove(&mut self, key: (u16, MacAddr)) {
        if let Ok(e) = self.table.find_entry(self.hasher.hash_one(key), |(k, _)| *k == key) {
            e.remove();
        }
    }
}

/// The table of all bridges, keyed by (bridge index, MAC).
#[derive(Debug, Default)]
pub(crate) struct MacTable {
    map: Entries,
    /// Learned (non-static) entries per bridge.
    learned: HashMap<u16, u32>,
    /// Learned entries per (bridge, destination): a full bridge takes room for a new address
    /// from the destination holding the most, as OVS evicts, so one port flooding made-up
    /// source addresses cannot keep a real host from being learned. Indexed by bridge
    /// first, so a full bridge looks at its own destinations only, not every bridge's.
    by_dest: HashMap<u16, HashMap<Dest, Held>>,
    /// Destinations [`Self::make_room`] looked at (tests count its work).
    #[cfg(test)]
    examined: usize,
}

/// A destination's learned addresses in one bridge: how many, and in the order learned
/// (addresses that moved or aged since are skipped when found, and compacted away).
#[derive(Debug, Default)]
struct Held {
    count: u32,
    order: VecDeque<MacAddr>,
}

impl MacTable {
    pub fn lookup(&self, bridge: u16, mac: MacAddr) -> Option<Dest> {
        self.map.get((bridge, mac)).map(|e| e.dest)
    }

    /// Refreshes a known entry as seen at `at`, unless it was seen later: flow-cache hits
    /// are handed over by the flow sweep, with the time of each flow's last hit.
    pub fn touch(&mut self, bridge: u16, mac: MacAddr, at: Instant) {
        if let Some(e) = self.map.get_mut((bridge, mac)) {
            e.last_seen = e.last_seen.max(at);
        }
    }

    pub fn learn(
        &mut self,
        bridge: u16,
        mac: MacAddr,
        dest: Dest,
        now: Instant,
        limit: u32,
    ) -> Learned {
        match self.map.get_mut((bridge, mac)) {
            Some(e) if e.is_static => Learned::Static,
            Some(e) => {
                e.last_seen = now;
                if e.dest == dest {
                    Learned::Refreshed
                } else {
                    let old = std::mem::replace(&mut e.dest, dest);
                    self.let_go(bridge, old);
                    self.hold(bridge, dest, mac);
                    Learned::Moved
                }
            }
            None => {
                if self.learned_in(bridge) >= limit && !self.make_room(bridge, dest) {
                    return Learned::LimitReached;
                }
                *self.learned.entry(bridge).or_insert(0) += 1;
                self.map.insert((bridge, mac), MacEntry { dest, last_seen: now, is_static: false });
                self.hold(bridge, dest, mac);
                Learned::New
            }
        }
    }

    /// In a full `bridge`, removes a learned address of the destination holding the most,
    /// if it holds at least two more than `dest` (so two equal floods do not trade places
    /// forever); false when there is none to take.
    fn make_room(&mut self, bridge: u16, dest: Dest) -> bool {
        let Some(dests) = self.by_dest.get_mut(&bridge) else { return false };
        #[cfg(test)]
        {
            self.examined += dests.len();
        }
        let mine = dests.get(&dest).map_or(0, |h| h.count);
        let biggest = dests.iter().max_by_key(|(_, h)| h.count).map(|(d, h)| (*d, h.count));
        let Some((victim, most)) = biggest else { return false };
        if most < mine + 2 {
            return false;
        }
        let map = &self.map;
        let Some(held) = dests.get_mut(&victim) else { return false };
        // The oldest address still learned there (the others moved or aged since).
        let still_there = |mac: &MacAddr| {
            map.get((bridge, *mac)).is_some_and(|e| !e.is_static && e.dest == victim)
        };
        while let Some(mac) = held.order.pop_front() {
            if still_there(&mac) {
                self.map.remove((bridge, mac));
                if let Some(n) = self.learned.get_mut(&bridge) {
                    *n = n.saturating_sub(1);
                }
                self.let_go(bridge, victim);
                return true;
            }
        }
        false
    }

    /// Counts a learned address of `dest` in `bridge`.
    fn hold(&mut self, bridge: u16, dest: Dest, mac: MacAddr) {
        let held = self.by_dest.entry(bridge).or_default().entry(dest).or_default();
        held.count += 1;
        held.order.push_back(mac);
        // Stale addresses (moved, aged) would pile up behind a busy destination: rebuilt
        // from the table when they outnumber the live ones.
        if held.order.len() > 2 * held.count as usize + 16 {
            let map = &self.map;
            held.order
                .retain(|m| map.get((bridge, *m)).is_some_and(|e| !e.is_static && e.dest == dest));
        }
    }

    /// Uncounts a learned address of `dest` in `bridge` (its entry moved, aged or went).
    fn let_go(&mut self, bridge: u16, dest: Dest) {
        let Some(dests) = self.by_dest.get_mut(&bridge) else { return };
        if let Some(held) = dests.get_mut(&dest) {
            held.count = held.count.saturating_sub(1);
            if held.count == 0 {
                dests.remove(&dest);
                if dests.is_empty() {
                    self.by_dest.remove(&bridge);
                }
            }
        }
    }

    pub fn insert_static(&mut self, bridge: u16, mac: MacAddr, dest: Dest, now: Instant) {
        if let Some(old) =
            self.map.insert((bridge, mac), MacEntry { dest, last_seen: now, is_static: true })
            && !old.is_static
        {
            if let Some(n) = self.learned.get_mut(&bridge) {
                *n = n.saturating_sub(1);
            }
            self.let_go(bridge, old.dest);
        }
    }

    /// Removes learned entries not seen within their bridge's ageing time; calls `changed` for
    /// each bridge that lost an entry.
    pub fn age(
        &mut self,
        now: Instant,
        ageing: impl Fn(u16) -> Duration,
        mut changed: impl FnMut(u16),
    ) {
        let mut gone = Vec::new();
        self.map.table.retain(|((b, _), e)| {
            let keep = e.is_static || now.saturating_duration_since(e.last_seen) < ageing(*b);
            if !keep {
                gone.push((*b, e.dest));
                changed(*b);
            }
            keep
        });
        self.uncount(gone);
    }

    /// Uncounts learned entries taken out of the map.
    fn uncount(&mut self, gone: Vec<(u16, Dest)>) {
        for (b, dest) in gone {
            if let Some(n) = self.learned.get_mut(&b) {
                *n = n.saturating_sub(1);
            }
            self.let_go(b, dest);
        }
    }

    /// Removes the learned entries whose destination `gone` says is gone; calls `changed`
    /// for each bridge that lost an entry.
    pub fn forget(&mut self, gone: impl Fn(Dest) -> bool, mut changed: impl FnMut(u16)) {
        let mut removed = Vec::new();
        self.map.table.retain(|((b, _), e)| {
            let keep = e.is_static || !gone(e.dest);
            if !keep {
                removed.push((*b, e.dest));
                changed(*b);
            }
            keep
        });
        self.uncount(removed);
    }

    pub fn learned_in(&self, bridge: u16) -> u32 {
        self.learned.get(&bridge).copied().unwrap_or(0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u16, MacAddr, &MacEntry)> {
        self.map.table.iter().map(|((b, m), e)| (*b, *m, e))
    }

    /// One page of entries from slot `start` on ([`crate::paging::page`]), and the slot the
    /// next page starts at.
    pub fn page(
        &self,
        start: usize,
        size: usize,
    ) -> (Vec<(u16, MacAddr, &MacEntry)>, Option<usize>) {
        let (items, next) = crate::paging::page(&self.map.table, start, size);
        (items.into_iter().map(|((b, m), e)| (*b, *m, e)).collect(), next)
    }

    pub fn len(&self) -> usize {
        self.map.table.len()
    }

    /// Takes every entry out (for a reconfiguration that re-inserts what is still valid).
    pub fn drain(&mut self) -> Vec<(u16, MacAddr, MacEntry)> {
        self.learned.clear();
        self.by_dest.clear();
        self.map.table.drain().map(|((b, m), e)| (b, m, e)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const B: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);

    #[test]
    fn learn_move_limit_static_and_age() {
        let t0 = Instant::now();
        let mut t = MacTable::default();
        let p1 = Dest::Port(PortId(1));
        let p2 = Dest::Port(PortId(2));
        assert_eq!(t.learn(0, A, p1, t0, 1), Learned::New);
        assert_eq!(t.learn(0, A, p1, t0, 1), Learned::Refreshed);
        assert_eq!(t.learn(0, A, p2, t0, 1), Learned::Moved);
        assert_eq!(t.learn(0, B, p1, t0, 1), Learned::LimitReached);
        assert_eq!(t.learn(1, B, p1, t0, 1), Learned::New, "limits are per bridge");
        t.insert_static(0, B, p2, t0);
        assert_eq!(t.learn(0, B, p1, t0, 10), Learned::Static);
        assert_eq!(t.lookup(0, B), Some(p2));
        let mut changed = Vec::new();
        t.age(t0 + Duration::from_secs(10), |_| Duration::from_secs(5), |b| changed.push(b));
        changed.sort_unstable();
        assert_eq!(changed, vec![0, 1]);
        assert_eq!((t.lookup(0, A), t.lookup(0, B), t.len()), (None, Some(p2), 1));
        assert_eq!(t.learned_in(0), 0);
    }

    /// A full bridge takes room from the destination holding the most (its oldest address),
    /// as OVS evicts: one port's flood of made-up addresses cannot keep another port's host
    /// from being learned, and the flooding port does not push out its own (no churn).
    #[test]
    fn a_full_bridge_takes_room_from_the_destination_holding_the_most() {
        let t0 = Instant::now();
        let mut t = MacTable::default();
        let (flood, host) = (Dest::Port(PortId(1)), Dest::Port(PortId(2)));
        let made_up = |i: u8| MacAddr([2, 0, 0, 0, 9, i]);
        for i in 0..4 {
            assert_eq!(t.learn(0, made_up(i), flood, t0, 4), Learned::New);
        }
        assert_eq!(t.learn(0, made_up(9), flood, t0, 4), Learned::LimitReached, "no churn");
        assert_eq!(t.learn(0, A, host, t0, 4), Learned::New, "room taken from the flood");
        assert_eq!(t.lookup(0, made_up(0)), None, "its oldest went");
        assert_eq!((t.lookup(0, A), t.learned_in(0)), (Some(host), 4));
        // Once the two are within one of each other, neither takes from the other.
        assert_eq!(t.learn(0, B, host, t0, 4), Learned::New);
        assert_eq!(t.learn(0, MacAddr([2, 0, 0, 0, 0, 3]), host, t0, 4), Learned::LimitReached);
        let mut changed = Vec::new();
        t.age(t0 + Duration::from_secs(10), |_| Duration::from_secs(5), |b| changed.push(b));
        assert_eq!((t.learned_in(0), t.by_dest.len()), (0, 0), "ageing uncounts");
    }

    /// Making room in a full bridge looks at that bridge's destinations only, however many
    /// other bridges of the switch hold addresses.
    #[test]
    fn making_room_looks_at_the_full_bridge_only() {
        let t0 = Instant::now();
        let mut t = MacTable::default();
        let addr = |b: u16, p: u16| {
            let ([b1, b0], [p1, p0]) = (b.to_be_bytes(), p.to_be_bytes());
            MacAddr([2, b1, b0, p1, p0, 0])
        };
        for b in 0..100 {
            for p in 0..50 {
                let dest = Dest::Port(PortId(p));
                assert_eq!(t.learn(b, addr(b, p), dest, t0, 50), Learned::New);
            }
        }
        let before = t.examined;
        let newcomer = MacAddr([2, 0, 0, 0, 0, 0xff]);
        assert_eq!(t.learn(0, newcomer, Dest::Port(PortId(99)), t0, 50), Learned::LimitReached);
        let examined = t.examined - before;
        assert!(examined <= 50, "making room in a bridge of 50 destinations looked at {examined}");
    }
}
