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

#[cfg(test)]
mod tests {
    use super::*;

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
