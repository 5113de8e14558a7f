//! What the alert sender has done, shared between the handle (which queues
//! and drops) and the background task (which delivers).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A snapshot, for metrics, logs at shutdown and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertCounters {
    /// Alerts accepted and not yet handed to every destination.
    pub queued: u64,
    /// Posts that a destination accepted (one alert to two destinations
    /// is two posts).
    pub delivered: u64,
    /// Posts given up after their retries, or refused outright (4xx).
    pub failed: u64,
    /// Alerts never posted: the queue was full or closed, or shutdown's
    /// time ran out before their turn.
    pub dropped: u64,
}

/// Seconds between two "alerts dropped" warnings, however fast they drop.
const WARN_EVERY_SECS: u64 = 10;

pub(super) struct Counts {
    pub queued: AtomicU64,
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
    /// Seconds since `epoch` of the last drop warning, plus one (0: never).
    last_warned: AtomicU64,
    epoch: Instant,
}

impl Counts {
    pub fn new() -> Counts {
        Counts {
            queued: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            last_warned: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    pub fn snapshot(&self) -> AlertCounters {
        AlertCounters {
            queued: self.queued.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    /// Counts `n` dropped alerts and warns, at most once per
    /// `WARN_EVERY_SECS`, so a flood of drops cannot flood the log.
    pub fn drop_alerts(&self, n: u64, why: &str) {
        let total = self.dropped.fetch_add(n, Ordering::Relaxed) + n;
        let now = self.epoch.elapsed().as_secs() + 1;
        let last = self.last_warned.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= WARN_EVERY_SECS;
        if due
            && self
                .last_warned
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!("{why}: budget alerts dropped ({total} so far)");
        }
    }
}
