//! Reopening a store just dropped (shared by the unit and integration tests).

use std::path::Path;

use super::{Result, Store};

/// Opens `dir`, retrying while sled's background thread of a store just dropped still holds
/// the directory's lock.
pub fn reopen(dir: &Path) -> Result<Store> {
    reopen_with(dir, Store::open)
}

/// [`reopen`] with `open` (e.g. [`Store::open_recounted`]).
pub fn reopen_with(dir: &Path, open: fn(&Path) -> Result<Store>) -> Result<Store> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match open(dir) {
            Err(e)
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}
