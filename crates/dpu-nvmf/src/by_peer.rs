//! State shared by the connections of one peer (`dpu_runtime::peer::group`: an IPv4
//! address, an IPv6 /64), kept while any of them holds it: what the I/O pool and the
//! write budget share out between hosts rather than between connections, so a host gets
//! no more for opening more queues.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// One `T` per peer group, made on its first connection's [`get`](Self::get) and
/// dropped with its last holder. Cloning shares it.
#[derive(Debug)]
pub(crate) struct ByPeer<T>(Arc<Mutex<HashMap<IpAddr, Weak<T>>>>);

impl<T> Clone for ByPeer<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Default for ByPeer<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T> ByPeer<T> {
    /// The `T` of `peer`'s group, `make` made if it has none live.
    pub(crate) fn get(&self, peer: IpAddr, make: impl FnOnce() -> T) -> Arc<T> {
        let key = dpu_runtime::peer::group(peer);
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(live) = map.get(&key).and_then(Weak::upgrade) {
            return live;
        }
        // Groups whose connections all ended go as a new one comes: the map holds the
        // live groups and those that ended since, never every peer ever seen.
        map.retain(|_, w| w.strong_count() > 0);
        let made = Arc::new(make());
        map.insert(key, Arc::downgrade(&made));
        made
    }

    /// Every live group's `T`.
    pub(crate) fn live(&self) -> Vec<Arc<T>> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.values().filter_map(Weak::upgrade).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_per_group_while_held() {
        let by = ByPeer::<u8>::default();
        let a = by.get(IpAddr::from([192, 0, 2, 1]), || 1);
        let mapped = "::ffff:192.0.2.1".parse().unwrap();
        assert!(Arc::ptr_eq(&a, &by.get(mapped, || 2)), "an IPv4-mapped peer is the same");
        let v6 = |id: u16| IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, id]);
        let b = by.get(v6(1), || 3);
        assert!(Arc::ptr_eq(&b, &by.get(v6(2), || 4)), "a /64 is one group");
        assert_eq!(by.live().len(), 2);
        drop(a);
        assert_eq!(*by.get(IpAddr::from([192, 0, 2, 9]), || 5), 5);
        assert_eq!(by.0.lock().unwrap().len(), 2, "the ended group went as a new one came");
        assert_eq!(*by.get(IpAddr::from([192, 0, 2, 1]), || 6), 6, "made anew");
    }
}
