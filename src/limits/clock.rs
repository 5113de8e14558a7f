//! Wall-clock time as unix milliseconds and seconds. Rate windows are aligned
//! to the wall-clock minute and budget periods to unix seconds, so that every
//! instance (and the database) agrees on them; the internal `_at` variants of
//! the public calls take the time as an argument, for tests.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub fn unix_secs() -> u64 {
    unix_millis() / 1_000
}
