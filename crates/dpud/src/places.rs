//! Places for connections or calls in flight, bounded in all and per peer address: what
//! keeps one peer from taking every place of a listener. A place is given back when it is
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
}

impl Places {
    /// A place for `address` when fewer than `total` are held in all and fewer than
    /// `per_address` by it.
    pub fn take(
        &self,
        address: IpAddr,
        total: usize,
        per_address: usize,
    ) -> Result<Place, Refused> {
        let mut h = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if h.total >= total {
            return Err(Refused::Full);
        }
        let of_address = h.by_address.entry(address).or_default();
        if *of_address >= per_address {
            return Err(Refused::AddressFull);
        }
        *of_address += 1;
        h.total += 1;
        Ok(Place { held: Arc::clone(&self.held), address })
    }
}

/// One place taken; given back on drop.
#[derive(Debug)]
pub struct Place {
    held: Arc<Mutex<Held>>,
    address: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut h = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        h.total = h.total.saturating_sub(1);
        if let Some(n) = h.by_address.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                h.by_address.remove(&self.address);
            }
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
}
