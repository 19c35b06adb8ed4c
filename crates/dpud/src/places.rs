//! Places for connections or calls in flight, bounded in all and per peer address: what
//! keeps one peer from taking every place of a listener. A peer is counted under
//! `dpu_runtime::peer::address`, and an IPv6 /64 (`dpu_runtime::peer::group`, any of whose
//! addresses one machine may take) holds at most half the places: it is often a rack of
//! real hosts, so not one address's share, but never all. A place is given back when it is
//! dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Why no place was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Every place is taken.
    Full,
    /// The peer's address holds its share.
    AddressFull,
    /// The peer's IPv6 /64 holds its share.
    GroupFull,
}

/// The places of one kind a listener gives, shared by its connections.
#[derive(Debug, Clone, Default)]
pub struct Places {
    held: Arc<Mutex<Held>>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
    /// IPv6 peers only: an IPv4 address is its own group.
    by_group: HashMap<IpAddr, usize>,
}

/// Most places an IPv6 /64 holds of `total`: half, but at least one address's share.
fn group_share(total: usize, per_address: usize) -> usize {
    (total / 2).max(per_address)
}

/// Adds `by` to `address`'s count, dropping it from the map at zero.
fn count(map: &mut HashMap<IpAddr, usize>, address: IpAddr, by: isize) {
    let n = map.entry(address).or_default();
    *n = n.saturating_add_signed(by);
    if *n == 0 {
        map.remove(&address);
    }
}

impl Places {
    /// A place for `address` when fewer than `total` are held in all, fewer than
    /// `per_address` by it and, for IPv6, fewer than half of `total` by its /64.
    pub fn take(
        &self,
        address: IpAddr,
        total: usize,
        per_address: usize,
    ) -> Result<Place, Refused> {
        let address = dpu_runtime::peer::address(address);
        let group = address.is_ipv6().then(|| dpu_runtime::peer::group(address));
        let mut h = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if h.total >= total {
            return Err(Refused::Full);
        }
        if h.by_address.get(&address).copied().unwrap_or(0) >= per_address {
            return Err(Refused::AddressFull);
        }
        if let Some(group) = group
            && h.by_group.get(&group).copied().unwrap_or(0) >= group_share(total, per_address)
        {
            return Err(Refused::GroupFull);
        }
        count(&mut h.by_address, address, 1);
        if let Some(group) = group {
            count(&mut h.by_group, group, 1);
        }
        h.total += 1;
        Ok(Place { held: Arc::clone(&self.held), address, group })
    }
}

/// One place taken; given back on drop.
#[derive(Debug)]
pub struct Place {
    held: Arc<Mutex<Held>>,
    address: IpAddr,
    group: Option<IpAddr>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut h = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        h.total = h.total.saturating_sub(1);
        count(&mut h.by_address, self.address, -1);
        if let Some(group) = self.group {
            count(&mut h.by_group, group, -1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn places_are_bounded_in_all_and_per_address_and_come_back() {
        let places = Places::default();
        let (a, b, c) = (
            IpAddr::from(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::from(Ipv4Addr::new(192, 0, 2, 2)),
            IpAddr::from(Ipv4Addr::new(192, 0, 2, 3)),
        );
        let first = places.take(a, 3, 2);
        let second = places.take(a, 3, 2);
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(places.take(a, 3, 2).err(), Some(Refused::AddressFull));
        let third = places.take(b, 3, 2);
        assert!(third.is_ok());
        assert_eq!(places.take(c, 3, 2).err(), Some(Refused::Full));
        drop(first);
        assert!(places.take(a, 3, 2).is_ok());
        drop((second, third));
        assert!(places.held.lock().unwrap().by_address.is_empty());
    }

    #[test]
    fn an_ipv6_slash_64_holds_half_the_places_and_mapped_ipv4_is_its_address() {
        let places = Places::default();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // 8 places, 2 per address: the /64 takes 4 from addresses of its own choosing.
        let held: Vec<_> = (1..=4)
            .map(|i| places.take(ip(&format!("2001:db8:0:7::{i}")), 8, 2).unwrap())
            .collect();
        assert_eq!(places.take(ip("2001:db8:0:7::99"), 8, 2).err(), Some(Refused::GroupFull));
        assert!(places.take(ip("2001:db8:0:8::1"), 8, 2).is_ok(), "another /64 has its own");
        drop(held);
        // An IPv4 peer through a dual-stack listener is the same peer as through an IPv4 one.
        let v4 = places.take(ip("192.0.2.1"), 8, 2).unwrap();
        let mapped = places.take(ip("::ffff:192.0.2.1"), 8, 2).unwrap();
        assert_eq!(places.take(ip("::ffff:192.0.2.1"), 8, 2).err(), Some(Refused::AddressFull));
        drop((v4, mapped));
        let h = places.held.lock().unwrap();
        assert!(h.by_address.is_empty() && h.by_group.is_empty());
    }
}
