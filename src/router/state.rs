//! Per-deployment health: failures this minute, cooldown, requests in flight
//! and a moving average of latency. Plain atomics and a short-held std mutex:
//! never held across an await.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::providers::FailureClass;

/// How many recent failure classes `/router/state` can show.
const RECENT: usize = 8;

#[derive(Default)]
pub struct DeploymentState {
    pub in_flight: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Start of the current minute window, and failures in it.
    window_start: Option<Instant>,
    failures: u32,
    /// Failures this minute by class, for `allowed_fails_policy`.
    by_class: Vec<(FailureClass, u32)>,
    cooldown_until: Option<Instant>,
    cooldown_reason: Option<FailureClass>,
    latency_avg: Option<Duration>,
    recent: Vec<FailureClass>,
    /// Start of the current minute of usage, and requests started in it.
    usage_start: Option<Instant>,
    requests: u64,
    tokens: u64,
}

/// A snapshot for `/router/state`.
pub struct Snapshot {
    pub in_flight: u64,
    pub failures_this_minute: u32,
    pub cooldown_remaining: Option<Duration>,
    pub cooldown_reason: Option<FailureClass>,
    pub latency_avg: Option<Duration>,
    pub recent_failures: Vec<FailureClass>,
    pub requests_this_minute: u64,
    pub tokens_this_minute: u64,
}

/// Failure classes that count towards a cooldown: LiteLLM's 429, 401, 404,
/// 408, 5xx, plus connection failures.
pub fn counts_for_cooldown(class: FailureClass) -> bool {
    matches!(
        class,
        FailureClass::RateLimited
            | FailureClass::Overloaded
            | FailureClass::Auth
            | FailureClass::NotFound
            | FailureClass::Timeout
            | FailureClass::ServerError
            | FailureClass::ConnectionFailed
    )
}

impl DeploymentState {
    /// Time left in the cooldown, if cooling down at `now`.
    pub fn cooling(&self, now: Instant) -> Option<Duration> {
        let inner = self.inner.lock().unwrap();
        inner
            .cooldown_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Records a failed attempt; true when it started a cooldown. `policy`
    /// is `allowed_fails_policy`'s allowance for this class, if it has one;
    /// else the minute's failures are held against `allowed_fails`.
    pub fn failed(
        &self,
        class: FailureClass,
        allowed_fails: u32,
        policy: Option<u32>,
        cooldown: Option<Duration>,
        now: Instant,
    ) -> bool {
        let mut inner = self.inner.lock().unwrap();
        if inner.recent.len() == RECENT {
            inner.recent.remove(0);
        }
        inner.recent.push(class);
        if !counts_for_cooldown(class) && policy.is_none() {
            return false;
        }
        if inner
            .window_start
            .is_none_or(|start| now.duration_since(start) >= Duration::from_secs(60))
        {
            inner.window_start = Some(now);
            inner.failures = 0;
            inner.by_class.clear();
        }
        inner.failures += 1;
        let of_class = match inner.by_class.iter_mut().find(|(c, _)| *c == class) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                inner.by_class.push((class, 1));
                1
            }
        };
        let over = match policy {
            Some(allowed) => of_class > allowed,
            None => inner.failures > allowed_fails,
        };
        let Some(cooldown) = cooldown else {
            return false;
        };
        let already = inner.cooldown_until.is_some_and(|u| u > now);
        if over && !already {
            inner.cooldown_until = Some(now + cooldown);
            inner.cooldown_reason = Some(class);
            // A fresh count after the cooldown.
            inner.failures = 0;
            inner.by_class.clear();
            return true;
        }
        false
    }

    /// Counts a request started now against this minute's `rpm`.
    pub fn started(&self, now: Instant) {
        let mut inner = self.inner.lock().unwrap();
        if inner
            .usage_start
            .is_none_or(|start| now.duration_since(start) >= Duration::from_secs(60))
        {
            inner.usage_start = Some(now);
            inner.requests = 0;
            inner.tokens = 0;
        }
        inner.requests += 1;
    }

    /// Counts tokens an answer used against this minute's `tpm`.
    pub fn used_tokens(&self, tokens: u64, now: Instant) {
        let mut inner = self.inner.lock().unwrap();
        if inner
            .usage_start
            .is_some_and(|start| now.duration_since(start) < Duration::from_secs(60))
        {
            inner.tokens += tokens;
        }
    }

    /// Tokens used this minute.
    pub fn tokens_this_minute(&self, now: Instant) -> u64 {
        let inner = self.inner.lock().unwrap();
        match inner.usage_start {
            Some(start) if now.duration_since(start) < Duration::from_secs(60) => inner.tokens,
            _ => 0,
        }
    }

    /// Requests started this minute.
    pub fn requests_this_minute(&self, now: Instant) -> u64 {
        let inner = self.inner.lock().unwrap();
        match inner.usage_start {
            Some(start) if now.duration_since(start) < Duration::from_secs(60) => inner.requests,
            _ => 0,
        }
    }

    pub fn latency(&self) -> Option<Duration> {
        self.inner.lock().unwrap().latency_avg
    }

    /// Records a success and its latency (time to first byte for streams).
    pub fn succeeded(&self, latency: Duration) {
        let mut inner = self.inner.lock().unwrap();
        inner.latency_avg = Some(match inner.latency_avg {
            None => latency,
            Some(avg) => avg.mul_f64(0.8) + latency.mul_f64(0.2),
        });
    }

    pub fn snapshot(&self, now: Instant) -> Snapshot {
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        let inner = self.inner.lock().unwrap();
        let in_window = inner
            .window_start
            .is_some_and(|s| now.duration_since(s) < Duration::from_secs(60));
        let usage_live = inner
            .usage_start
            .is_some_and(|s| now.duration_since(s) < Duration::from_secs(60));
        Snapshot {
            in_flight,
            tokens_this_minute: if usage_live { inner.tokens } else { 0 },
            failures_this_minute: if in_window { inner.failures } else { 0 },
            cooldown_remaining: inner
                .cooldown_until
                .and_then(|u| u.checked_duration_since(now))
                .filter(|d| !d.is_zero()),
            cooldown_reason: inner.cooldown_reason,
            latency_avg: inner.latency_avg,
            recent_failures: inner.recent.clone(),
            requests_this_minute: match inner.usage_start {
                Some(start) if now.duration_since(start) < Duration::from_secs(60) => {
                    inner.requests
                }
                _ => 0,
            },
        }
    }
}

/// Counts a request in flight for as long as the guard lives.
pub struct InFlight<'a>(&'a DeploymentState);

impl<'a> InFlight<'a> {
    pub fn new(state: &'a DeploymentState) -> Self {
        state.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
