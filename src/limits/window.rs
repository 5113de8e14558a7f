//! The window algorithm behind `rpm` and `tpm`: a sliding-window counter.
//!
//! Time is cut into fixed windows of one minute aligned to the wall clock
//! (unix time / 60 s). A counter keeps the count of the current minute and of
//! the one before it, and estimates "the last 60 seconds" as
//!
//! ```text
//! previous × (time left in the current minute / 60 s) + current
//! ```
//!
//! that is, it assumes the previous minute's traffic was spread evenly and
//! lets it slide out as the current minute advances. Why this one:
//! - a fixed window (LiteLLM's, one counter per minute) lets a client spend a
//!   whole limit at 0:59 and another at 1:00: twice the limit in two seconds;
//!   the weighted previous minute closes that gap;
//! - an exact sliding log keeps one timestamp per request (memory and time
//!   grow with traffic); this keeps three integers per scope and limit;
//! - a token bucket is smooth too, but does not give the per-minute counts
//!   that `x-ratelimit-remaining-*` report and that LiteLLM users reason in;
//! - minute-aligned windows are the same on every instance, so a shared
//!   (Redis) version can keep one counter per scope and minute.
//!
//! All arithmetic is in integers (counts × milliseconds), so a limit of 10
//! admits exactly 10 in an empty minute.

use std::time::Duration;

/// The window length, in milliseconds.
pub const WINDOW_MS: u64 = 60_000;

/// Counts in the current and previous minute.
#[derive(Debug, Default, Clone)]
pub struct SlidingWindow {
    /// Which minute `current` counts (unix ms / `WINDOW_MS`).
    minute: u64,
    current: u64,
    previous: u64,
}

impl SlidingWindow {
    /// Moves the window to the minute of `now_ms`. A clock that went back
    /// keeps counting into the newest minute seen rather than forgetting it.
    fn roll(&mut self, now_ms: u64) {
        let minute = now_ms / WINDOW_MS;
        if minute <= self.minute {
            return;
        }
        self.previous = if minute == self.minute + 1 {
            self.current
        } else {
            0
        };
        self.current = 0;
        self.minute = minute;
    }

    /// Milliseconds into the current minute (0 when the clock went back).
    fn elapsed(&self, now_ms: u64) -> u64 {
        now_ms
            .saturating_sub(self.minute * WINDOW_MS)
            .min(WINDOW_MS)
    }

    /// The estimate for the last 60 s, scaled by `WINDOW_MS`.
    fn scaled_estimate(&mut self, now_ms: u64) -> u128 {
        self.roll(now_ms);
        let weight_left = u128::from(WINDOW_MS - self.elapsed(now_ms));
        u128::from(self.previous) * weight_left + u128::from(self.current) * u128::from(WINDOW_MS)
    }

    /// Whether `amount` more fits under `limit` at `now_ms`.
    pub fn admits(&mut self, now_ms: u64, amount: u64, limit: u64) -> bool {
        let scaled = self.scaled_estimate(now_ms) + u128::from(amount) * u128::from(WINDOW_MS);
        scaled <= u128::from(limit) * u128::from(WINDOW_MS)
    }

    /// Counts `amount` in the minute of `now_ms`; returns that minute, so
    /// that the amount can be taken back later with `take_back`.
    pub fn add(&mut self, now_ms: u64, amount: u64) -> u64 {
        self.roll(now_ms);
        self.current = self.current.saturating_add(amount);
        self.minute
    }

    /// Takes back `amount` counted in `minute`, if that minute still counts.
    pub fn take_back(&mut self, minute: u64, amount: u64) {
        if minute == self.minute {
            self.current = self.current.saturating_sub(amount);
        } else if minute + 1 == self.minute {
            self.previous = self.previous.saturating_sub(amount);
        }
    }

    /// What is left of `limit` at `now_ms` (the estimate rounded up).
    pub fn remaining(&mut self, now_ms: u64, limit: u64) -> u64 {
        let used = self.scaled_estimate(now_ms).div_ceil(u128::from(WINDOW_MS));
        u64::try_from(u128::from(limit).saturating_sub(used)).unwrap_or(0)
    }

    /// How long until the estimate is back to zero with no new traffic:
    /// OpenAI's "time until the rate limit resets to its initial state".
    pub fn until_empty(&mut self, now_ms: u64) -> Duration {
        self.roll(now_ms);
        let left_in_minute = WINDOW_MS - self.elapsed(now_ms);
        let ms = if self.current > 0 {
            left_in_minute + WINDOW_MS
        } else if self.previous > 0 {
            left_in_minute
        } else {
            0
        };
        Duration::from_millis(ms)
    }

    /// How long until `amount` more fits under `limit` with no new traffic.
    /// `amount` above `limit` is taken as `limit` (it fits an empty window).
    pub fn until_admits(&mut self, now_ms: u64, amount: u64, limit: u64) -> Duration {
        if self.admits(now_ms, amount, limit) {
            return Duration::ZERO;
        }
        let amount = amount.min(limit);
        let w = u128::from(WINDOW_MS);
        let left_in_minute = u128::from(WINDOW_MS - self.elapsed(now_ms));
        let (current, previous) = (u128::from(self.current), u128::from(self.previous));
        let (limit, amount) = (u128::from(limit), u128::from(amount));
        let ms = if current + amount <= limit && previous > 0 {
            // Fits later this minute, once enough of the previous one slid
            // out: previous × weight ≤ (limit − current − amount) × W.
            let weight_allowed = (limit - current - amount) * w / previous;
            left_in_minute.saturating_sub(weight_allowed)
        } else {
            // Next minute, when enough of this one has slid out:
            // current × (W − t) / W ≤ limit − amount.
            // (Nothing counted this minute: it all fits once it starts.)
            let weight_allowed = ((limit - amount) * w)
                .checked_div(current)
                .map_or(w, |allowed| allowed.min(w));
            left_in_minute + (w - weight_allowed)
        };
        Duration::from_millis(ms as u64).max(Duration::from_millis(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE_START: u64 = 1_000 * WINDOW_MS;

    fn fill(window: &mut SlidingWindow, at: u64, n: u64) {
        for _ in 0..n {
            window.add(at, 1);
        }
    }

    #[test]
    fn admits_exactly_the_limit_in_an_empty_minute() {
        let mut w = SlidingWindow::default();
        let mut admitted = 0;
        for i in 0..25 {
            if w.admits(MINUTE_START + i * 100, 1, 10) {
                w.add(MINUTE_START + i * 100, 1);
                admitted += 1;
            }
        }
        assert_eq!(admitted, 10);
        assert_eq!(w.remaining(MINUTE_START + 3_000, 10), 0);
    }

    #[test]
    fn the_previous_minute_slides_out() {
        let mut w = SlidingWindow::default();
        fill(&mut w, MINUTE_START + 50_000, 10);
        // At the start of the next minute all 10 still count …
        assert!(!w.admits(MINUTE_START + WINDOW_MS, 1, 10));
        // … half-way through, half of them do.
        let half = MINUTE_START + WINDOW_MS + WINDOW_MS / 2;
        assert_eq!(w.remaining(half, 10), 5);
        assert!(w.admits(half, 5, 10));
        assert!(!w.admits(half, 6, 10));
        // Two minutes on, nothing counts.
        assert_eq!(w.remaining(MINUTE_START + 2 * WINDOW_MS, 10), 10);
    }

    #[test]
    fn no_double_burst_across_the_minute_boundary() {
        let mut w = SlidingWindow::default();
        fill(&mut w, MINUTE_START + 59_000, 10);
        let next = MINUTE_START + WINDOW_MS + 1_000;
        let mut admitted = 0;
        while w.admits(next, 1, 10) {
            w.add(next, 1);
            admitted += 1;
        }
        assert_eq!(admitted, 0, "a fixed window would admit 10 more here");
    }

    #[test]
    fn until_admits_is_the_first_moment_it_fits() {
        let cases = [
            // (previous-minute count, current count, elapsed ms, amount, limit)
            (10, 0, 0, 1, 10),
            (10, 3, 20_000, 2, 10),
            (0, 10, 10_000, 1, 10),
            (4, 8, 45_000, 3, 10),
            (0, 10, 0, 25, 10),
            (12, 3, 30_000, 1, 8),
        ];
        for (previous, current, elapsed, amount, limit) in cases {
            let mut w = SlidingWindow::default();
            fill(&mut w, MINUTE_START, previous);
            let now = MINUTE_START + WINDOW_MS + elapsed;
            fill(&mut w, now, current);
            let wait = w.until_admits(now, amount, limit).as_millis() as u64;
            let case = (previous, current, elapsed, amount, limit, wait);
            assert!(wait > 0, "{case:?} is admitted at once");
            assert!(
                w.clone().admits(now + wait, amount.min(limit), limit),
                "{case:?}"
            );
            assert!(
                !w.clone().admits(now + wait - 1, amount.min(limit), limit),
                "{case:?}"
            );
        }
    }

    #[test]
    fn until_empty_counts_both_minutes() {
        let mut w = SlidingWindow::default();
        assert_eq!(w.until_empty(MINUTE_START), Duration::ZERO);
        w.add(MINUTE_START + 15_000, 1);
        assert_eq!(
            w.until_empty(MINUTE_START + 15_000),
            Duration::from_secs(105)
        );
        assert_eq!(
            w.until_empty(MINUTE_START + WINDOW_MS + 15_000),
            Duration::from_secs(45)
        );
    }

    #[test]
    fn takes_back_from_the_minute_it_was_counted_in() {
        let mut w = SlidingWindow::default();
        let minute = w.add(MINUTE_START + 59_000, 100);
        w.add(MINUTE_START + WINDOW_MS, 1);
        w.take_back(minute, 100);
        assert_eq!(w.remaining(MINUTE_START + WINDOW_MS, 1_000), 999);
        let old = w.add(MINUTE_START + WINDOW_MS, 5);
        w.roll(MINUTE_START + 3 * WINDOW_MS);
        w.take_back(old, 5); // long gone: nothing to take back
        assert_eq!(w.remaining(MINUTE_START + 3 * WINDOW_MS, 10), 10);
    }

    #[test]
    fn a_clock_going_back_keeps_counting() {
        let mut w = SlidingWindow::default();
        fill(&mut w, MINUTE_START + WINDOW_MS, 3);
        fill(&mut w, MINUTE_START, 2);
        assert_eq!(w.remaining(MINUTE_START + WINDOW_MS, 10), 5);
    }
}
