//! Maps keyed by NVMe command identifier (CID), for per-command state on both sides.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Per-command state by CID, hashed with [`CidHasher`].
pub(crate) type CidMap<V> = HashMap<u16, V, BuildHasherDefault<CidHasher>>;

/// Hashes command identifiers (host-chosen, often sequential) with one multiplication
/// (Fibonacci hashing): SipHash's DoS resistance buys nothing for a map of at most
/// queue-depth entries per connection, whose size the target bounds.
#[derive(Default)]
pub(crate) struct CidHasher(u64);

impl std::hash::Hasher for CidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64((self.0 << 8) | u64::from(b));
        }
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Slots of a [`CidTable`]: the most commands a queue may have outstanding (MAXCMD),
/// a power of two.
const TABLE_SLOTS: usize = 128;

/// Per-command state keyed by CIDs the host chooses (the target's): a direct-mapped
/// table indexed by the CID's low bits, with a map for CIDs whose slot is taken. A Linux
/// host's CID is its tag (below the queue depth) with a generation above it, so its
/// commands never collide and finding one is an index and a compare; any other choice of
/// CIDs stays correct, colliding ones going to the map.
#[derive(Debug)]
pub(crate) struct CidTable<V> {
    /// Empty until the first insert: a connection that never sends a command (any peer
    /// on the fabric can open one) holds no table.
    slots: Box<[Option<(u16, V)>]>,
    spill: CidMap<V>,
    len: usize,
}

impl<V> Default for CidTable<V> {
    fn default() -> Self {
        Self { slots: Box::default(), spill: CidMap::default(), len: 0 }
    }
}

impl<V> CidTable<V> {
    /// Whether `cid` has state.
    pub(crate) fn contains(&self, cid: u16) -> bool {
        matches!(self.slots.get(usize::from(cid) % TABLE_SLOTS), Some(Some((c, _))) if *c == cid)
            || (!self.spill.is_empty() && self.spill.contains_key(&cid))
    }

    /// Keeps `value` for `cid`, replacing (and returning) what was kept for it.
    pub(crate) fn insert(&mut self, cid: u16, value: V) -> Option<V> {
        // A CID in the map stays there (its slot may have come free since).
        let spilled = !self.spill.is_empty() && self.spill.contains_key(&cid);
        if self.slots.is_empty() {
            self.slots = (0..TABLE_SLOTS).map(|_| None).collect();
        }
        let slot = &mut self.slots[usize::from(cid) % TABLE_SLOTS];
        match slot {
            Some((c, v)) if *c == cid => Some(std::mem::replace(v, value)),
            None if !spilled => {
                *slot = Some((cid, value));
                self.len += 1;
                None
            }
            _ => {
                let old = self.spill.insert(cid, value);
                self.len += usize::from(old.is_none());
                old
            }
        }
    }

    /// The state kept for `cid`, to change.
    pub(crate) fn get_mut(&mut self, cid: u16) -> Option<&mut V> {
        let i = usize::from(cid) % TABLE_SLOTS;
        match self.slots.get_mut(i) {
            Some(Some((c, v))) if *c == cid => Some(v),
            _ if self.spill.is_empty() => None,
            _ => self.spill.get_mut(&cid),
        }
    }

    /// Takes the state kept for `cid`.
    pub(crate) fn remove(&mut self, cid: u16) -> Option<V> {
        let slot = self.slots.get_mut(usize::from(cid) % TABLE_SLOTS);
        let v = match slot {
            Some(slot) if slot.as_ref().is_some_and(|(c, _)| *c == cid) => {
                slot.take().map(|(_, v)| v)
            }
            _ if self.spill.is_empty() => None,
            _ => self.spill.remove(&cid),
        };
        self.len -= usize::from(v.is_some());
        v
    }

    /// Commands with state kept.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every state kept, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.slots.iter().flatten().map(|(_, v)| v).chain(self.spill.values())
    }
}

/// Bits of a CID that [`CidSlots`] uses for the slot; the bits above hold its generation.
const SLOT_BITS: u32 = 12;
const SLOT_MASK: u16 = (1 << SLOT_BITS) - 1;

/// Per-command state of the commands whose CIDs this side chooses (the initiator's): a
/// CID is a slot number in its low [`SLOT_BITS`] bits and the slot's generation above, as
/// Linux's host driver tags its commands. Finding a command is an index and a compare, not
/// a hash lookup, and a slot's next command gets another CID than its last, so a late
/// answer to the last one matches nothing. At most 4,096 commands at once.
#[derive(Debug)]
pub(crate) struct CidSlots<V> {
    slots: Vec<Slot<V>>,
    /// Free slot numbers, the most recently freed last (reused first: still cached).
    free: Vec<u16>,
    /// Slots holding a command (not the reserved ones).
    len: usize,
}

#[derive(Debug)]
struct Slot<V> {
    /// The CID last handed out for this slot.
    cid: u16,
    state: SlotState<V>,
}

#[derive(Debug)]
enum SlotState<V> {
    Free,
    /// Handed out, no state kept (yet): a command being encoded, or one whose answer is
    /// not tracked (an Asynchronous Event Request).
    Reserved,
    Busy(V),
}

impl<V> Default for CidSlots<V> {
    fn default() -> Self {
        Self { slots: Vec::new(), free: Vec::new(), len: 0 }
    }
}

impl<V> CidSlots<V> {
    /// Reserves a slot and returns its new CID (never 0); `None` when all are taken.
    pub(crate) fn reserve(&mut self) -> Option<u16> {
        let index = match self.free.pop() {
            Some(i) => i,
            None if self.slots.len() <= usize::from(SLOT_MASK) => {
                // The first CID of slot i is i + 1 generation: never 0.
                let i = self.slots.len() as u16;
                self.slots.push(Slot { cid: i, state: SlotState::Free });
                i
            }
            None => return None,
        };
        let slot = &mut self.slots[usize::from(index)];
        let mut cid = slot.cid.wrapping_add(1 << SLOT_BITS);
        if cid == 0 {
            cid = cid.wrapping_add(1 << SLOT_BITS);
        }
        *slot = Slot { cid, state: SlotState::Reserved };
        Some(cid)
    }

    fn slot(&self, cid: u16) -> Option<&Slot<V>> {
        self.slots.get(usize::from(cid & SLOT_MASK)).filter(|s| s.cid == cid)
    }

    fn slot_mut(&mut self, cid: u16) -> Option<&mut Slot<V>> {
        self.slots.get_mut(usize::from(cid & SLOT_MASK)).filter(|s| s.cid == cid)
    }

    /// Keeps `value` for the reserved `cid`; false (and nothing kept) if `cid` is not
    /// reserved.
    pub(crate) fn insert(&mut self, cid: u16, value: V) -> bool {
        match self.slot_mut(cid) {
            Some(s) if matches!(s.state, SlotState::Reserved) => {
                s.state = SlotState::Busy(value);
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// Frees the reserved `cid` (a command that was never sent, or an untracked command
    /// that completed); false if `cid` is not reserved.
    pub(crate) fn release(&mut self, cid: u16) -> bool {
        match self.slot_mut(cid) {
            Some(s) if matches!(s.state, SlotState::Reserved) => {
                s.state = SlotState::Free;
                self.free.push(cid & SLOT_MASK);
                true
            }
            _ => false,
        }
    }

    /// The state kept for `cid`.
    pub(crate) fn get(&self, cid: u16) -> Option<&V> {
        match &self.slot(cid)?.state {
            SlotState::Busy(v) => Some(v),
            _ => None,
        }
    }

    /// The state kept for `cid`, to change.
    pub(crate) fn get_mut(&mut self, cid: u16) -> Option<&mut V> {
        match &mut self.slot_mut(cid)?.state {
            SlotState::Busy(v) => Some(v),
            _ => None,
        }
    }

    /// Takes the state kept for `cid` and frees its slot.
    pub(crate) fn remove(&mut self, cid: u16) -> Option<V> {
        let slot = self.slot_mut(cid)?;
        match std::mem::replace(&mut slot.state, SlotState::Free) {
            SlotState::Busy(v) => {
                self.len -= 1;
                self.free.push(cid & SLOT_MASK);
                Some(v)
            }
            other => {
                slot.state = other;
                None
            }
        }
    }

    /// Commands with state kept.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every state kept (not the reserved slots), in slot order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.slots.iter().filter_map(|s| match &s.state {
            SlotState::Busy(v) => Some(v),
            _ => None,
        })
    }

    /// Frees every slot, reserved ones included (their generations stay).
    pub(crate) fn clear(&mut self) {
        self.free.clear();
        for (i, s) in self.slots.iter_mut().enumerate().rev() {
            s.state = SlotState::Free;
            self.free.push(i as u16);
        }
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keeps_colliding_and_sequential_cids_apart() {
        let mut t = CidTable::default();
        // Nothing held until the first insert; an empty table answers every lookup.
        assert!(t.slots.is_empty());
        assert!(!t.contains(5) && t.get_mut(5).is_none() && t.remove(5).is_none());
        assert!(t.slots.is_empty());
        // Linux-like CIDs (tag | generation << 12) and ones colliding in the low bits.
        let cids = [5u16, 5 | (3 << 12), 5 + 128, 127, 0, 0xFFFF];
        for (i, &cid) in cids.iter().enumerate() {
            assert!(!t.contains(cid));
            assert_eq!(t.insert(cid, i), None);
        }
        assert_eq!(t.len(), cids.len());
        for (i, &cid) in cids.iter().enumerate() {
            assert!(t.contains(cid));
            assert_eq!(t.get_mut(cid).copied(), Some(i));
        }
        assert_eq!(t.insert(5 + 128, 99), Some(2), "replaces");
        assert_eq!(t.len(), cids.len());
        // Removing the slot's owner leaves the spilled ones found.
        assert_eq!(t.remove(5), Some(0));
        assert_eq!(t.remove(5), None);
        assert!(!t.contains(5));
        assert_eq!(
            (t.get_mut(5 | (3 << 12)).copied(), t.get_mut(5 + 128).copied()),
            (Some(1), Some(99))
        );
        // A spilled CID stays in the map although its slot came free.
        let before = t.len();
        assert_eq!(t.insert(5 + 128, 100), Some(99));
        assert_eq!((t.len(), t.remove(5 + 128), t.remove(5 + 128)), (before, Some(100), None));
        assert_eq!(t.insert(5 + 128, 99), None);
        assert_eq!(t.insert(5, 7), None, "the freed slot takes it again");
        for cid in [5, 5 | (3 << 12), 5 + 128, 127, 0, 0xFFFF] {
            assert!(t.remove(cid).is_some(), "{cid}");
        }
        assert_eq!(t.len(), 0);
        assert!(!t.contains(0xFFFF) && t.get_mut(127).is_none());
    }

    #[test]
    fn slots_hand_out_distinct_cids_and_find_only_current_ones() {
        let mut s = CidSlots::default();
        let a = s.reserve().unwrap();
        let b = s.reserve().unwrap();
        assert!(a != 0 && b != 0 && a != b);
        assert!(s.insert(a, "a") && s.insert(b, "b"));
        assert!(!s.insert(a, "again"), "a slot holds one command");
        assert_eq!((s.len(), s.get(a), s.get(b)), (2, Some(&"a"), Some(&"b")));
        *s.get_mut(b).unwrap() = "b2";
        assert_eq!(s.remove(b), Some("b2"));
        assert_eq!(s.remove(b), None);
        assert_eq!((s.get(b), s.len()), (None, 1));
        // The freed slot is reused first, under another CID; the old CID finds nothing.
        let c = s.reserve().unwrap();
        assert_eq!(c & SLOT_MASK, b & SLOT_MASK);
        assert_ne!(c, b);
        assert!(s.insert(c, "c"));
        assert_eq!(s.remove(b), None);
        assert_eq!((s.get(b), s.get(c)), (None, Some(&"c")));
        // CIDs nobody handed out, or handed out but not kept, find nothing.
        for stranger in [0, 0xFFF0, a ^ (1 << SLOT_BITS)] {
            assert_eq!(s.get(stranger), None);
            assert!(!s.release(stranger));
        }
        let untracked = s.reserve().unwrap();
        assert_eq!(s.get(untracked), None);
        assert_eq!(s.remove(untracked), None);
        assert!(s.release(untracked) && !s.release(untracked));
        assert_eq!(s.len(), 2);
        s.clear();
        assert!(s.is_empty() && s.get(a).is_none() && s.get(c).is_none());
    }

    #[test]
    fn slots_run_out_at_4096_and_cycle_generations_without_cid_0() {
        let mut s = CidSlots::<()>::default();
        let cids: Vec<u16> = (0..4096).map(|_| s.reserve().unwrap()).collect();
        assert_eq!(s.reserve(), None, "all slots taken");
        assert!(!cids.contains(&0));
        let unique: std::collections::BTreeSet<u16> = cids.iter().copied().collect();
        assert_eq!(unique.len(), 4096);
        // One slot through all 16 generations: CIDs repeat only after them, never 0.
        assert!(s.release(cids[0]));
        let mut seen = vec![cids[0]];
        for _ in 0..20 {
            let c = s.reserve().unwrap();
            assert!(c != 0 && c & SLOT_MASK == 0);
            seen.push(c);
            assert!(s.release(c));
        }
        assert_eq!(seen[0], seen[15], "slot 0 has 15 usable generations: {seen:x?}");
        assert!(seen[1..15].iter().all(|&c| c != seen[0]));
    }

    #[test]
    fn every_cid_is_its_own_entry() {
        let mut m = CidMap::default();
        for cid in (0..=u16::MAX).step_by(7) {
            m.insert(cid, u32::from(cid) * 3);
        }
        assert_eq!(m.len(), 9363);
        assert!((0..=u16::MAX).step_by(7).all(|cid| m.get(&cid) == Some(&(u32::from(cid) * 3))));
        assert_eq!(m.get(&1), None);
        assert_eq!(m.remove(&7), Some(21));
        assert_eq!(m.get(&7), None);
    }
}
