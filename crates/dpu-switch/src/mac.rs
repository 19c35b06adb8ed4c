//! The MAC address table: learning with ageing, static entries, a per-bridge limit
//! (IEEE 802.1Q §8.8, filtering database).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dpu_wire::MacAddr;

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

/// The table of all bridges, keyed by (bridge index, MAC).
#[derive(Debug, Default)]
pub(crate) struct MacTable {
    map: HashMap<(u16, MacAddr), MacEntry, foldhash::quality::RandomState>,
    /// Learned (non-static) entries per bridge.
    learned: HashMap<u16, u32>,
}

impl MacTable {
    pub fn lookup(&self, bridge: u16, mac: MacAddr) -> Option<Dest> {
        self.map.get(&(bridge, mac)).map(|e| e.dest)
    }

    /// Refreshes a known entry as seen at `at`, unless it was seen later: flow-cache hits
    /// are handed over by the flow sweep, with the time of each flow's last hit.
    pub fn touch(&mut self, bridge: u16, mac: MacAddr, at: Instant) {
        if let Some(e) = self.map.get_mut(&(bridge, mac)) {
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
        match self.map.get_mut(&(bridge, mac)) {
            Some(e) if e.is_static => Learned::Static,
            Some(e) => {
                e.last_seen = now;
                if e.dest == dest {
                    Learned::Refreshed
                } else {
                    e.dest = dest;
                    Learned::Moved
                }
            }
            None => {
                let n = self.learned.entry(bridge).or_insert(0);
                if *n >= limit {
                    return Learned::LimitReached;
                }
                *n += 1;
                self.map.insert((bridge, mac), MacEntry { dest, last_seen: now, is_static: false });
                Learned::New
            }
        }
    }

    pub fn insert_static(&mut self, bridge: u16, mac: MacAddr, dest: Dest, now: Instant) {
        if let Some(old) =
            self.map.insert((bridge, mac), MacEntry { dest, last_seen: now, is_static: true })
            && !old.is_static
            && let Some(n) = self.learned.get_mut(&bridge)
        {
            *n = n.saturating_sub(1);
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
        let learned = &mut self.learned;
        self.map.retain(|(b, _), e| {
            let keep = e.is_static || now.saturating_duration_since(e.last_seen) < ageing(*b);
            if !keep {
                if let Some(n) = learned.get_mut(b) {
                    *n = n.saturating_sub(1);
                }
                changed(*b);
            }
            keep
        });
    }

    /// Removes the learned entries whose destination `gone` says is gone; calls `changed`
    /// for each bridge that lost an entry.
    pub fn forget(&mut self, gone: impl Fn(Dest) -> bool, mut changed: impl FnMut(u16)) {
        let learned = &mut self.learned;
        self.map.retain(|(b, _), e| {
            let keep = e.is_static || !gone(e.dest);
            if !keep {
                if let Some(n) = learned.get_mut(b) {
                    *n = n.saturating_sub(1);
                }
                changed(*b);
            }
            keep
        });
    }

    pub fn learned_in(&self, bridge: u16) -> u32 {
        self.learned.get(&bridge).copied().unwrap_or(0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u16, MacAddr, &MacEntry)> {
        self.map.iter().map(|((b, m), e)| (*b, *m, e))
    }

    /// Takes every entry out (for a reconfiguration that re-inserts what is still valid).
    pub fn drain(&mut self) -> Vec<(u16, MacAddr, MacEntry)> {
        self.learned.clear();
        self.map.drain().map(|((b, m), e)| (b, m, e)).collect()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
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
}
