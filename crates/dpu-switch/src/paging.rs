//! Paging a hash table in its own slot order, so that one page of a listing costs about a
//! page under the switch's lock, however large the table (the flow cache and the MAC table:
//! a page used to render and sort the whole table, and a listing walks every page).
//!
//! A page token is a slot index. Positions stay put while nothing is inserted, so a listing
//! of a table nothing changes gives every entry exactly once. A listing while the table
//! changes is not a snapshot (as `ovs-appctl dpctl/dump-flows`): an entry added or removed
//! meanwhile may or may not be given, and any insertion may rehash the table (to grow, or in
//! place when removals' tombstones use up its free slots), moving every entry, so some may
//! be given twice or not at all.

use hashbrown::HashTable;

/// Slots a page may look at per entry it may hold. hashbrown keeps a table that grew at
/// least 7/16 full, so a page fills long before this; a table emptied since (removals give
/// no slots back) ends a page short, and the next token carries on where it stopped.
const SLOTS_PER_ENTRY: usize = 16;
/// Slots any page may look at (a few microseconds), so small pages cross sparse tables in
/// a reasonable number of calls.
const MIN_SLOTS: usize = 4096;

/// The entries of `table` in the slots from `start` on: at most `size` (at least one), and
/// at most `SLOTS_PER_ENTRY` slots looked at per entry asked for (at least `MIN_SLOTS`).
/// Also the slot the next page starts at; none after the last slot.
pub(crate) fn page<T>(table: &HashTable<T>, start: usize, size: usize) -> (Vec<&T>, Option<usize>) {
    let size = size.max(1);
    let slots = table.num_buckets();
    let stop = start.saturating_add(size.saturating_mul(SLOTS_PER_ENTRY).max(MIN_SLOTS)).min(slots);
    let mut items = Vec::with_capacity(size.min(table.len()));
    let mut i = start;
    while i < stop && items.len() < size {
        items.extend(table.get_bucket(i));
        i += 1;
    }
    // Past the empty slots that follow (within the same bound), so that the page holding
    // the last entry is the last page, not one before an empty one.
    while i < stop && table.get_bucket(i).is_none() {
        i += 1;
    }
    visited(i.saturating_sub(start));
    (items, (i < slots).then_some(i))
}

#[cfg(test)]
thread_local! {
    /// Table slots (full or empty) that listings on this thread looked at: tests check that a
    /// page's work is bounded by the page, not by the table.
    static VISITED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts `n` slots looked at by a listing (tests only).
#[inline]
fn visited(_n: usize) {
    #[cfg(test)]
    VISITED.with(|v| v.set(v.get() + _n));
}

/// The slots counted by [`visited`] on this thread since the last call.
#[cfg(test)]
pub(crate) fn take_visited() -> usize {
    VISITED.with(|v| v.replace(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table emptied after it grew keeps its slots: every page still looks at a bounded
    /// number of them, and the walk gives each remaining entry once.
    #[test]
    fn a_sparse_table_pages_at_a_bounded_cost() {
        let hash = |v: &u32| u64::from(*v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut table = HashTable::new();
        for v in 0..100_000u32 {
            table.insert_unique(hash(&v), v, hash);
        }
        table.retain(|v| *v % 10_000 == 0);
        take_visited();
        let (mut got, mut token, mut pages) = (Vec::new(), Some(0), 0);
        while let Some(t) = token {
            let (items, next) = page(&table, t, 1);
            let visited = take_visited();
            assert!(visited <= MIN_SLOTS, "a page looked at {visited} slots");
            got.extend(items.into_iter().copied());
            (token, pages) = (next, pages + 1);
        }
        got.sort_unstable();
        assert_eq!(got, (0..10).map(|i| i * 10_000).collect::<Vec<u32>>());
        assert!(pages <= table.num_buckets() / MIN_SLOTS + 10, "{pages} pages");
        // A token past the end (the table shrank since) ends the listing.
        assert_eq!(page(&table, usize::MAX, 10), (Vec::new(), None));
    }
}
