//! The IPv4/IPv6 neighbour table of the SVIs, shared by all VRFs.
//!
//! Linux keeps one neighbour table for all its VRFs and network namespaces, bounded by
//! gc_thresh3, and makes room only by collecting entries nobody references (failed ones,
//! stale ones unused for gc_staletime). One tenant could fill it, so here the VRFs that
//! route (have an SVI) share it ([`Shares`]): the part being resolved is divided equally,
//! each VRF's part a limit; of the whole table, half is divided equally (each VRF is sure of
//! its part) and half goes to whoever needs it. Entries being resolved are the only ones
//! ever evicted to make room, and only a VRF's own, oldest first, when it is at its limit:
//! a scan by one tenant cannot keep another from resolving, nor take the place of a
//! resolved neighbour, its own included. The counts behind the shares are kept exact at
//! every change, so no decision walks the table.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Instant;

use dpu_wire::MacAddr;

use super::l3::{MAX_INCOMPLETE_NEIGHBOURS, MAX_NEIGHBOURS, NEIGHBOUR_PROBES, NEIGHBOUR_REACHABLE};
use super::{ARP_RETRY, FastMap};

/// What the tick does with a resolved neighbour (the SVIs' and the VTEP's underlay next
/// hop alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ageing {
    Keep,
    /// Ask its MAC by unicast (RFC 4861 §7.3.3 PROBE; RFC 1122 §2.3.2.1 unicast poll).
    Probe,
    /// [`NEIGHBOUR_PROBES`] probes went unanswered: forget it.
    Forget,
}

/// A resolved neighbour's [`Ageing`] at `now`: last heard from at `updated`, last asked at
/// `last_request`, `probes` probes unanswered since.
pub(crate) fn ageing(
    now: Instant,
    updated: Instant,
    last_request: Option<Instant>,
    probes: u32,
) -> Ageing {
    let asked_a_while_ago =
        last_request.is_none_or(|t| now.saturating_duration_since(t) >= ARP_RETRY);
    if !asked_a_while_ago {
        Ageing::Keep
    } else if probes >= NEIGHBOUR_PROBES {
        Ageing::Forget
    } else if now.saturating_duration_since(updated) >= NEIGHBOUR_REACHABLE {
        Ageing::Probe
    } else {
        Ageing::Keep
    }
}

/// A neighbour's key: its VRF and address.
pub(crate) type Key = (u16, IpAddr);

#[derive(Debug, Clone, Copy)]
pub(crate) struct L3Neighbour {
    pub mac: Option<MacAddr>,
    pub updated: Instant,
    pub last_request: Option<Instant>,
    /// The bridge (link) it was heard on or asked for through: probes go there (an IPv6
    /// link-local address is on the link of every SVI).
    pub bridge: u16,
    /// Probes sent since it was last heard from.
    pub probes: u32,
    /// When routed traffic last went to it (its creation before any): Linux's `used`, which
    /// tells a live neighbour from an idle one.
    pub used: Instant,
    /// Tells this entry's place in its VRF's waiting queue from a stale one of the same
    /// address.
    serial: u64,
}

impl L3Neighbour {
    fn new(now: Instant, bridge: u16) -> Self {
        L3Neighbour {
            mac: None,
            updated: now,
            last_request: None,
            bridge,
            probes: 0,
            used: now,
            serial: 0,
        }
    }

    /// Heard from on `bridge` with `mac`; true when the MAC changed.
    fn heard(&mut self, now: Instant, bridge: u16, mac: MacAddr) -> bool {
        let changed = self.mac != Some(mac);
        self.mac = Some(mac);
        self.updated = now;
        self.bridge = bridge;
        self.probes = 0;
        changed
    }
}

/// Room of `cap` entries for the VRFs that route, `reserved` of it divided equally among
/// them: each is sure of its part (its share), and holds more only out of room no VRF below
/// its share could still claim. With all of the room reserved, a share is also a limit.
#[derive(Debug, Clone)]
struct Shares {
    cap: usize,
    /// Per VRF: its share (none for a VRF without an SVI, which holds no neighbours), and
    /// the entries it holds.
    vrfs: Vec<(usize, usize)>,
    total: usize,
    /// Sum over the VRFs of what they hold below their share: kept free for them.
    unclaimed: usize,
}

impl Shares {
    /// `routing[v]`: whether VRF `v` has an SVI.
    fn new(cap: usize, reserved: usize, routing: &[bool]) -> Self {
        let share = (reserved.min(cap) / routing.iter().filter(|r| **r).count().max(1)).max(1);
        let vrfs: Vec<(usize, usize)> =
            routing.iter().map(|&r| (if r { share } else { 0 }, 0)).collect();
        let unclaimed = vrfs.iter().map(|v| v.0).sum();
        Shares { cap, vrfs, total: 0, unclaimed }
    }

    fn held(&self, vrf: u16) -> usize {
        self.vrfs.get(usize::from(vrf)).map_or(0, |v| v.1)
    }

    /// Whether `vrf` may add an entry after giving `freed` (0 or 1) of its own up. Below its
    /// share it may while there is room (there is, while every VRF above its share keeps to
    /// room others left unclaimed); at or above it, only out of that room.
    fn may_add(&self, vrf: u16, freed: usize) -> bool {
        // A VRF without a share has no SVI to hold neighbours on.
        let Some(&(share @ 1.., held)) = self.vrfs.get(usize::from(vrf)) else { return false };
        let (Some(held), Some(total)) = (held.checked_sub(freed), self.total.checked_sub(freed))
        else {
            return false;
        };
        if held < share {
            total < self.cap
        } else {
            // At or above its share still: what it freed was not below it, so `unclaimed`
            // stands.
            total + self.unclaimed < self.cap
        }
    }

    fn add(&mut self, vrf: u16) {
        let Some((share, held)) = self.vrfs.get_mut(usize::from(vrf)) else { return };
        if *held < *share {
            self.unclaimed -= 1;
        }
        *held += 1;
        self.total += 1;
    }

    fn remove(&mut self, vrf: u16) {
        let Some((share, held)) = self.vrfs.get_mut(usize::from(vrf)) else { return };
        if *held == 0 {
            return;
        }
        *held -= 1;
        self.total -= 1;
        if *held < *share {
            self.unclaimed += 1;
        }
    }
}

/// The table: entries, the shares of all entries and of those being resolved, and each
/// VRF's entries being resolved in the order they were created.
#[derive(Debug)]
pub(crate) struct Neighbours {
    map: FastMap<Key, L3Neighbour>,
    all: Shares,
    waiting: Shares,
    /// Per VRF, its waiting entries oldest first, as (address, serial); an item whose entry
    /// was resolved, forgotten or created anew since is skipped when met.
    queues: Vec<VecDeque<(IpAddr, u64)>>,
    next_serial: u64,
}

impl Neighbours {
    /// An empty table for the VRFs of a configuration; `routing[v]`: whether VRF `v` has an
    /// SVI (only those hold neighbours, and share the table).
    pub fn new(routing: &[bool]) -> Self {
        Neighbours {
            map: FastMap::default(),
            all: Shares::new(MAX_NEIGHBOURS, MAX_NEIGHBOURS / 2, routing),
            waiting: Shares::new(MAX_INCOMPLETE_NEIGHBOURS, MAX_INCOMPLETE_NEIGHBOURS, routing),
            queues: vec![VecDeque::new(); routing.len()],
            next_serial: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn get(&self, key: &Key) -> Option<&L3Neighbour> {
        self.map.get(key)
    }

    pub fn contains(&self, key: &Key) -> bool {
        self.map.contains_key(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &L3Neighbour)> {
        self.map.iter()
    }

    /// Records that a known neighbour was heard from; `None` when it is not known, else
    /// whether its MAC changed.
    pub fn heard(&mut self, key: &Key, now: Instant, bridge: u16, mac: MacAddr) -> Option<bool> {
        let n = self.map.get_mut(key)?;
        if n.mac.is_none() {
            self.waiting.remove(key.0);
        }
        Some(n.heard(now, bridge, mac))
    }

    /// Adds a neighbour heard from unasked (its own ARP request or Neighbor Solicitation to
    /// the gateway) when its VRF has room; it takes nobody's place. False when not added.
    pub fn insert_heard(&mut self, key: Key, now: Instant, bridge: u16, mac: MacAddr) -> bool {
        if self.map.contains_key(&key) || !self.all.may_add(key.0, 0) {
            return false;
        }
        let mut n = L3Neighbour::new(now, bridge);
        n.heard(now, bridge, mac);
        self.insert(key, n);
        true
    }

    /// Adds an entry for an address to resolve. When its VRF has no room left, the VRF's own
    /// oldest entry being resolved gives way if that makes room; a resolved one never does.
    /// False when there is no room (or the address is known).
    pub fn insert_waiting(&mut self, key: Key, now: Instant, bridge: u16) -> bool {
        if self.map.contains_key(&key) {
            return false;
        }
        let vrf = key.0;
        let room = |t: &Self, freed| t.waiting.may_add(vrf, freed) && t.all.may_add(vrf, freed);
        let made_room = room(self, 0) || (room(self, 1) && self.evict_oldest_waiting(vrf));
        if !made_room {
            return false;
        }
        self.insert(key, L3Neighbour::new(now, bridge));
        true
    }

    /// Records that a request for `key` goes out at `now`, unless one did within `retry`.
    pub fn request(&mut self, key: &Key, now: Instant, retry: std::time::Duration) -> bool {
        let Some(n) = self.map.get_mut(key) else { return false };
        if n.last_request.is_some_and(|t| now.saturating_duration_since(t) < retry) {
            return false;
        }
        n.last_request = Some(now);
        true
    }

    /// Keeps the entries `keep` says to (which may update them), counting those it drops.
    pub fn retain(&mut self, mut keep: impl FnMut(&Key, &mut L3Neighbour) -> bool) {
        let (all, waiting) = (&mut self.all, &mut self.waiting);
        self.map.retain(|k, n| {
            let was_waiting = n.mac.is_none();
            let kept = keep(k, n);
            match (kept, was_waiting, n.mac.is_none()) {
                (false, w, _) => {
                    all.remove(k.0);
                    if w {
                        waiting.remove(k.0);
                    }
                }
                (true, true, false) => waiting.remove(k.0),
                // (Ageing never forgets a MAC; counted all the same.)
                (true, false, true) => waiting.add(k.0),
                (true, _, _) => {}
            }
            kept
        });
        self.compact_queues();
    }

    /// Every entry, oldest first (so waiting ones re-enter a new table's queues in order).
    pub fn into_entries(self) -> Vec<(Key, L3Neighbour)> {
        let mut v: Vec<_> = self.map.into_iter().collect();
        v.sort_by_key(|(_, n)| n.updated);
        v
    }

    /// Puts an entry of the previous table back, whatever the shares (they only bound what
    /// is added later).
    pub fn restore(&mut self, key: Key, n: L3Neighbour) {
        if !self.map.contains_key(&key) {
            self.insert(key, n);
        }
    }

    fn insert(&mut self, key: Key, mut n: L3Neighbour) {
        let vrf = key.0;
        self.all.add(vrf);
        let waiting = n.mac.is_none();
        if waiting {
            self.waiting.add(vrf);
            n.serial = self.next_serial;
            self.next_serial += 1;
            if let Some(q) = self.queues.get_mut(usize::from(vrf)) {
                q.push_back((key.1, n.serial));
            }
        }
        // In the map before any compaction, which keeps only the items it finds there.
        self.map.insert(key, n);
        if waiting {
            self.compact_queues_of(vrf);
        }
    }

    /// Whether the queue item `(ip, serial)` of `vrf` is a live waiting entry.
    fn live(&self, vrf: u16, ip: IpAddr, serial: u64) -> bool {
        self.map.get(&(vrf, ip)).is_some_and(|n| n.mac.is_none() && n.serial == serial)
    }

    /// Forgets `vrf`'s oldest entry being resolved; false when it has none.
    fn evict_oldest_waiting(&mut self, vrf: u16) -> bool {
        while let Some((ip, serial)) =
            self.queues.get_mut(usize::from(vrf)).and_then(VecDeque::pop_front)
        {
            if self.live(vrf, ip, serial) {
                self.map.remove(&(vrf, ip));
                self.all.remove(vrf);
                self.waiting.remove(vrf);
                return true;
            }
        }
        false
    }

    fn compact_queues(&mut self) {
        for vrf in 0..self.queues.len() {
            self.compact_queues_of(vrf as u16);
        }
    }

    /// Drops `vrf`'s stale queue items once they outnumber its live ones, so a queue stays
    /// within about twice its VRF's waiting entries at an amortised constant cost.
    fn compact_queues_of(&mut self, vrf: u16) {
        let over = 2 * self.waiting.held(vrf) + 64;
        let Some(mut q) = self.queues.get_mut(usize::from(vrf)).map(std::mem::take) else {
            return;
        };
        if q.len() > over {
            q.retain(|&(ip, serial)| self.live(vrf, ip, serial));
        }
        if let Some(slot) = self.queues.get_mut(usize::from(vrf)) {
            *slot = q;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;
    use crate::testutil::xorshift;

    /// Recounts the entries, and checks the kept counts against it and, when `bounded`, the
    /// shares' bounds (a new configuration's shares may be exceeded by what it kept).
    fn check(t: &Neighbours, bounded: bool) {
        for (pool, waiting_only) in [(&t.all, false), (&t.waiting, true)] {
            let mut held = vec![0usize; pool.vrfs.len()];
            for ((v, _), n) in &t.map {
                if !waiting_only || n.mac.is_none() {
                    held[usize::from(*v)] += 1;
                }
            }
            assert_eq!(pool.vrfs.iter().map(|v| v.1).collect::<Vec<_>>(), held);
            assert_eq!(pool.total, held.iter().sum::<usize>());
            let below: usize = pool.vrfs.iter().map(|(s, h)| s.saturating_sub(*h)).sum();
            assert_eq!(pool.unclaimed, below);
            // Nobody took room a VRF below its share could still claim.
            let claimed: usize = pool.vrfs.iter().map(|(s, h)| (*s).max(*h)).sum();
            assert!(!bounded || claimed <= pool.cap);
        }
        // Every waiting entry has its place in its VRF's queue.
        for (v, q) in t.queues.iter().enumerate() {
            let live = q.iter().filter(|(ip, serial)| t.live(v as u16, *ip, *serial)).count();
            assert_eq!(live, t.waiting.held(v as u16), "queue of VRF {v}");
        }
    }

    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    /// An entry added while its VRF's queue is compacted keeps its place in the queue:
    /// compaction keeps only the items of entries in the table, so the new one must be
    /// there first. (Here 100 answers arrive before any ageing, leaving 100 stale items.)
    #[test]
    fn an_entry_added_while_its_queue_is_compacted_keeps_its_place() {
        let mut t = Neighbours::new(&[true]);
        let now = Instant::now();
        let key = |i: u32| (0, IpAddr::V4(Ipv4Addr::from(0xc000_0200 + i)));
        for i in 0..100 {
            assert!(t.insert_waiting(key(i), now, 0));
        }
        for i in 0..100 {
            assert!(t.heard(&key(i), now, 0, MAC).is_some());
        }
        assert!(t.insert_waiting(key(100), now, 0));
        check(&t, true);
    }

    /// A long random run of every change the switch makes (resolving, hearing unasked,
    /// answers, requests, ageing that forgets and resolves), mostly from one VRF, against a
    /// model: the counts stay exact, nothing takes room another VRF is sure of, a resolved
    /// entry is never evicted, a VRF below its shares always gets room, and the one entry
    /// an addition may evict is its own VRF's oldest waiting one.
    #[test]
    fn counts_stay_exact_and_only_a_vrfs_own_oldest_waiting_entry_gives_way() {
        // VRF 1 has no SVI.
        let routing = [true, false, true, true];
        let mut t = Neighbours::new(&routing);
        let (share_all, share_waiting) = (t.all.vrfs[0].0, t.waiting.vrfs[0].0);
        assert_eq!((share_all, share_waiting), (MAX_NEIGHBOURS / 6, MAX_INCOMPLETE_NEIGHBOURS / 3));
        // Key -> (resolved, serial of its waiting insertion); per VRF, insertions in order.
        let mut model: HashMap<Key, (bool, u64)> = HashMap::new();
        let mut order: Vec<VecDeque<(Key, u64)>> = vec![VecDeque::new(); routing.len()];
        let mut serial = 0u64;
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut now = Instant::now();
        let (mut evicted, mut full) = (0, 0);
        for step in 0..300_000u32 {
            let r = xorshift(&mut rng);
            // VRF 0 scans and is heard from most; 5 is out of range.
            let vrf = [0, 0, 0, 0, 0, 1, 2, 3, 5][(r >> 8) as usize % 9];
            let key = (vrf, IpAddr::V4(Ipv4Addr::from(0xc000_0000 + (r >> 20) as u32 % 16_000)));
            // Phases: mixed; a scan (mostly new addresses to resolve); hosts heard unasked.
            let op = match (step / 20_000) % 3 {
                1 if r % 10 < 9 => 0,
                2 if r % 10 < 8 => 600,
                2 => r % 999,
                _ => r % 1000,
            };
            match op {
                0..=399 => {
                    let known = model.contains_key(&key);
                    // (The counts are checked against the model below.)
                    let sure = routing.get(usize::from(vrf)) == Some(&true)
                        && t.waiting.held(vrf) < share_waiting
                        && t.all.held(vrf) < share_all;
                    let len = t.len();
                    let added = t.insert_waiting(key, now, 0);
                    assert!(!(added && known) && (known || !sure || added), "{key:?}");
                    if added {
                        if t.len() == len {
                            // The VRF's oldest waiting entry went.
                            let victim = loop {
                                let (k, s) = order[usize::from(vrf)].pop_front().unwrap();
                                if model.get(&k) == Some(&(false, s)) {
                                    break k;
                                }
                            };
                            assert!(!t.contains(&victim));
                            model.remove(&victim);
                            evicted += 1;
                        }
                        model.insert(key, (false, serial));
                        order[usize::from(vrf)].push_back((key, serial));
                        serial += 1;
                    } else {
                        assert_eq!(t.len(), len);
                    }
                }
                400..=599 => {
                    let changed = t.heard(&key, now, 0, MAC);
                    assert_eq!(changed.is_some(), model.contains_key(&key));
                    if let Some(e) = model.get_mut(&key) {
                        e.0 = true;
                    }
                }
                600..=699 => {
                    let known = model.contains_key(&key);
                    full += usize::from(!known && !t.all.may_add(vrf, 0) && vrf == 0);
                    if t.insert_heard(key, now, 0, MAC) {
                        assert!(!known && routing.get(usize::from(vrf)) == Some(&true));
                        model.insert(key, (true, u64::MAX));
                    }
                }
                700..=998 => {
                    t.request(&key, now, Duration::from_secs(1));
                }
                _ => {
                    // Ageing: forgets some, and some answers land as it goes.
                    let mut seen = Vec::new();
                    t.retain(|k, n| {
                        let r = xorshift(&mut rng);
                        if r.is_multiple_of(16) && n.mac.is_none() {
                            n.mac = Some(MAC);
                        }
                        // Waiting ones expire sooner.
                        let keep = r % if n.mac.is_none() { 4 } else { 64 } != 1;
                        seen.push((*k, keep, n.mac.is_some()));
                        keep
                    });
                    for (k, keep, res) in seen {
                        if !keep {
                            model.remove(&k);
                        } else if let Some(e) = model.get_mut(&k) {
                            e.0 = res;
                        }
                    }
                }
            }
            assert_eq!(t.len(), model.len());
            if step % 1000 == 0 {
                check(&t, true);
                // The same entries, none resolved lost or waiting again.
                for (k, (res, _)) in &model {
                    assert_eq!(t.get(k).map(|n| n.mac.is_some()), Some(*res), "{k:?}");
                }
            }
            now += Duration::from_millis(1);
        }
        check(&t, true);
        // The run reached both bounds.
        assert!(evicted > 0 && full > 0, "evicted {evicted}, full {full}");
        // A new configuration takes every entry back, counted under the new shares.
        let entries = t.into_entries();
        let mut t = Neighbours::new(&[true, true, true, true]);
        for (k, n) in entries {
            t.restore(k, n);
        }
        assert_eq!(t.len(), model.len());
        check(&t, false);
    }
}
