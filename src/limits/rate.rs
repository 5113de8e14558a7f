//! Rate limits per scope: `rpm`, `tpm` and `max_parallel_requests`, checked
//! and counted for all of a request's scopes at once (a key, its user, its
//! team, the end user, the model through the key). All or nothing: when one
//! scope says no, no scope counts the request.
//!
//! Requests and tokens are counted in sliding-window counters (see
//! `window.rs` for the algorithm and why). A request's estimated tokens count
//! against `tpm` when it starts, so that concurrent large requests cannot all
//! pass an almost-full window; `Admission::record_tokens` replaces the
//! estimate with the real figure afterwards.

use std::fmt;
use std::time::Duration;

use super::admission::{Admission, Held};
use super::clock;
use super::quota::RateSnapshot;
use super::registry::{Registry, lock};
use super::scope::ScopeId;
use super::window::SlidingWindow;

/// A scope's rate limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens (prompt + completion) per minute.
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    pub max_parallel_requests: Option<u32>,
}

impl Limits {
    pub fn is_unlimited(&self) -> bool {
        self.rpm.is_none() && self.tpm.is_none() && self.max_parallel_requests.is_none()
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKind {
    Rpm,
    Tpm,
    Parallel,
}

/// A request refused by a rate limit: a 429 with `retry-after` and the
/// `x-ratelimit-*` headers (`Denied::headers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The scope that refused (of several, the one that frees up last).
    pub scope: ScopeId,
    pub which: RateKind,
    pub limit: u64,
    /// Always 0: nothing of the refusing limit is left for this request.
    pub remaining: u64,
    /// Until this request would fit, if no one else comes. For
    /// `max_parallel_requests` that cannot be known: one second.
    pub retry_after: Duration,
    /// The tightest requests and tokens quotas at the time of refusal.
    pub snapshot: RateSnapshot,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.which {
            RateKind::Rpm => "requests per minute (rpm)",
            RateKind::Tpm => "tokens per minute (tpm)",
            RateKind::Parallel => "parallel requests (max_parallel_requests)",
        };
        write!(
            f,
            "Rate limit reached for {}: limit {} {what}. Retry after {:.1}s.",
            self.scope,
            self.limit,
            self.retry_after.as_secs_f64()
        )
    }
}

/// Counters of one scope.
#[derive(Debug, Default)]
pub(super) struct RateState {
    pub requests: SlidingWindow,
    pub tokens: SlidingWindow,
    pub in_flight: u32,
}

/// What a request may not do now, and for how long.
type Refusal = (RateKind, u64, Duration);

impl RateState {
    /// The limit that refuses one more request with `tokens` estimated, the
    /// one that frees up last when several do.
    fn refusal(&mut self, limits: &Limits, tokens: u64, now_ms: u64) -> Option<Refusal> {
        let mut refusals: [Option<Refusal>; 3] = [None; 3];
        if let Some(max) = limits.max_parallel_requests
            && self.in_flight >= max
        {
            refusals[0] = Some((RateKind::Parallel, u64::from(max), Duration::from_secs(1)));
        }
        if let Some(rpm) = limits.rpm
            && !self.requests.admits(now_ms, 1, rpm)
        {
            let wait = self.requests.until_admits(now_ms, 1, rpm);
            refusals[1] = Some((RateKind::Rpm, rpm, wait));
        }
        if let Some(tpm) = limits.tpm {
            // Every request uses a token; one larger than the whole limit
            // waits for an empty window instead of being refused forever.
            let tokens = tokens.clamp(1, tpm.max(1));
            if !self.tokens.admits(now_ms, tokens, tpm) {
                let wait = self.tokens.until_admits(now_ms, tokens, tpm);
                refusals[2] = Some((RateKind::Tpm, tpm, wait));
            }
        }
        refusals.into_iter().flatten().max_by_key(|r| r.2)
    }

    fn is_idle(&mut self, now_ms: u64) -> bool {
        self.in_flight == 0
            && self.requests.until_empty(now_ms).is_zero()
            && self.tokens.until_empty(now_ms).is_zero()
    }
}

/// Rate-limit counters for every scope seen, in this process.
#[derive(Default)]
pub struct Limiter {
    scopes: Registry<ScopeId, RateState>,
}

impl Limiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Admits a request against every scope's limits, or refuses it without
    /// counting it anywhere. On admission the request counts one against
    /// `rpm`, `estimated_tokens` against `tpm` and one in flight until the
    /// `Admission` is dropped. Scopes without limits are skipped; a scope
    /// listed twice counts once, with its first limits.
    pub fn check_and_start(
        &self,
        scopes: &[(ScopeId, Limits)],
        estimated_tokens: u64,
    ) -> Result<Admission, Denied> {
        self.check_and_start_at(scopes, estimated_tokens, clock::unix_millis())
    }

    pub(crate) fn check_and_start_at(
        &self,
        scopes: &[(ScopeId, Limits)],
        estimated_tokens: u64,
        now_ms: u64,
    ) -> Result<Admission, Denied> {
        let limited: Vec<&(ScopeId, Limits)> =
            scopes.iter().filter(|(_, l)| !l.is_unlimited()).collect();
        let slots = self
            .scopes
            .slots_in_lock_order(limited.iter().map(|(s, _)| s));
        let mut guards: Vec<_> = slots.iter().map(|(_, slot)| lock(slot)).collect();

        let mut refused: Option<(usize, Refusal)> = None;
        for ((i, _), state) in slots.iter().zip(guards.iter_mut()) {
            if let Some(refusal) = state.refusal(&limited[*i].1, estimated_tokens, now_ms)
                && refused.is_none_or(|(_, worst)| refusal.2 > worst.2)
            {
                refused = Some((*i, refusal));
            }
        }
        if let Some((i, (which, limit, retry_after))) = refused {
            let mut snapshot = RateSnapshot::default();
            for ((i, _), state) in slots.iter().zip(guards.iter_mut()) {
                snapshot.observe(state, &limited[*i].1, now_ms);
            }
            return Err(Denied {
                scope: limited[i].0.clone(),
                which,
                limit,
                remaining: 0,
                retry_after,
                snapshot,
            });
        }

        let mut minute = 0;
        for state in guards.iter_mut() {
            state.requests.add(now_ms, 1);
            minute = state.tokens.add(now_ms, estimated_tokens);
            state.in_flight += 1;
        }
        drop(guards);
        let held = slots
            .into_iter()
            .map(|(i, slot)| Held {
                limits: limited[i].1,
                slot,
            })
            .collect();
        Ok(Admission::new(held, estimated_tokens, minute))
    }

    /// Forgets scopes with nothing in flight and nothing left in their
    /// windows (their state is all zeros again), so that a stream of one-off
    /// end users does not grow the map forever. Call it now and then off the
    /// request path, e.g. once a minute; returns how many were forgotten.
    pub fn forget_idle(&self) -> usize {
        let now_ms = clock::unix_millis();
        self.scopes.forget_idle(|state| state.is_idle(now_ms))
    }

    /// How many scopes are tracked.
    pub fn tracked_scopes(&self) -> usize {
        self.scopes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_000 * 60_000; // the start of a minute

    fn key(id: &str) -> ScopeId {
        ScopeId::Key(id.into())
    }

    fn rpm(n: u64) -> Limits {
        Limits {
            rpm: Some(n),
            ..Limits::default()
        }
    }

    #[test]
    fn all_or_nothing_across_scopes() {
        let limiter = Limiter::new();
        let team = ScopeId::Team("t".into());
        let both = [(key("k"), rpm(100)), (team.clone(), rpm(1))];
        let first = limiter.check_and_start_at(&both, 0, NOW).unwrap();
        drop(first);
        let denied = limiter.check_and_start_at(&both, 0, NOW + 10).unwrap_err();
        assert_eq!(
            (denied.scope, denied.which, denied.limit),
            (team, RateKind::Rpm, 1)
        );
        assert_eq!(denied.remaining, 0);
        // The refused request was not counted on the key.
        let alone = limiter
            .check_and_start_at(&[(key("k"), rpm(100))], 0, NOW + 20)
            .unwrap();
        assert_eq!(alone.snapshot_at(NOW + 20).requests.unwrap().remaining, 98);
    }

    #[test]
    fn denied_says_when_to_retry_and_what_is_left() {
        let limiter = Limiter::new();
        let scopes = [(key("k"), rpm(2))];
        for _ in 0..2 {
            limiter.check_and_start_at(&scopes, 0, NOW).unwrap();
        }
        let denied = limiter
            .check_and_start_at(&scopes, 0, NOW + 30_000)
            .unwrap_err();
        // Both requests slide out over the next minute; one is gone half-way.
        assert_eq!(denied.retry_after, Duration::from_secs(60));
        let requests = denied.snapshot.requests.unwrap();
        assert_eq!((requests.limit, requests.remaining), (2, 0));
        assert_eq!(requests.reset, Duration::from_secs(90));
        assert!(limiter.check_and_start_at(&scopes, 0, NOW + 90_000).is_ok());
        assert!(denied.to_string().contains("key \"k\""), "{denied}");
    }

    #[test]
    fn parallel_slots_are_freed_on_drop() {
        let limiter = Limiter::new();
        let limits = Limits {
            max_parallel_requests: Some(2),
            ..Limits::default()
        };
        let scopes = [(key("k"), limits)];
        let a = limiter.check_and_start_at(&scopes, 0, NOW).unwrap();
        let _b = limiter.check_and_start_at(&scopes, 0, NOW).unwrap();
        let denied = limiter.check_and_start_at(&scopes, 0, NOW).unwrap_err();
        assert_eq!((denied.which, denied.limit), (RateKind::Parallel, 2));
        assert_eq!(denied.retry_after, Duration::from_secs(1));
        drop(a);
        assert!(limiter.check_and_start_at(&scopes, 0, NOW).is_ok());
    }

    #[test]
    fn tokens_are_estimated_then_recorded() {
        let limiter = Limiter::new();
        let limits = Limits {
            tpm: Some(1_000),
            ..Limits::default()
        };
        let scopes = [(key("k"), limits)];
        let mut first = limiter.check_and_start_at(&scopes, 600, NOW).unwrap();
        let denied = limiter.check_and_start_at(&scopes, 600, NOW).unwrap_err();
        assert_eq!(denied.which, RateKind::Tpm);
        assert_eq!(denied.snapshot.tokens.unwrap().remaining, 400);
        first.record_tokens_at(100, NOW + 5);
        let second = limiter.check_and_start_at(&scopes, 600, NOW + 10).unwrap();
        assert_eq!(second.snapshot_at(NOW + 10).tokens.unwrap().remaining, 300);
        // Dropped without a record, the estimate is taken back.
        drop(second);
        let tokens = first.snapshot_at(NOW + 10).tokens.unwrap();
        assert_eq!(tokens.remaining, 900);
        // Later records add.
        first.record_tokens_at(50, NOW + 20);
        assert_eq!(first.snapshot_at(NOW + 20).tokens.unwrap().remaining, 850);
    }

    #[test]
    fn a_request_larger_than_tpm_waits_for_an_empty_window() {
        let limiter = Limiter::new();
        let limits = Limits {
            tpm: Some(1_000),
            ..Limits::default()
        };
        let scopes = [(key("k"), limits)];
        let mut small = limiter.check_and_start_at(&scopes, 10, NOW).unwrap();
        small.record_tokens_at(10, NOW);
        let denied = limiter.check_and_start_at(&scopes, 5_000, NOW).unwrap_err();
        assert_eq!(denied.retry_after, Duration::from_secs(120));
        assert!(
            limiter
                .check_and_start_at(&scopes, 5_000, NOW + 120_000)
                .is_ok()
        );
    }

    #[test]
    fn unlimited_scopes_are_not_tracked() {
        let limiter = Limiter::new();
        let admission = limiter
            .check_and_start_at(&[(key("k"), Limits::default())], 10, NOW)
            .unwrap();
        assert!(admission.headers().is_empty());
        assert_eq!(limiter.tracked_scopes(), 0);
    }

    #[test]
    fn admission_headers_describe_the_tightest_scope() {
        let limiter = Limiter::new();
        let per_key = Limits {
            rpm: Some(10),
            tpm: Some(1_000_000),
            max_parallel_requests: None,
        };
        let scopes = [(key("k"), per_key), (ScopeId::User("u".into()), rpm(5))];
        let admission = limiter.check_and_start(&scopes, 100).unwrap();
        let headers = admission.headers();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("x-ratelimit-limit-requests").unwrap(), "5");
        assert_eq!(get("x-ratelimit-remaining-requests").unwrap(), "4");
        assert_eq!(get("x-ratelimit-limit-tokens").unwrap(), "1000000");
        assert_eq!(get("x-ratelimit-remaining-tokens").unwrap(), "999900");
        assert_eq!(headers.len(), 6);
    }

    #[test]
    fn idle_scopes_are_forgotten() {
        let limiter = Limiter::new();
        // Counted long ago (unix time 0): its windows are empty now.
        drop(
            limiter
                .check_and_start_at(&[(key("old"), rpm(5))], 0, 0)
                .unwrap(),
        );
        let held = limiter
            .check_and_start(&[(key("busy"), rpm(5))], 0)
            .unwrap();
        assert_eq!(limiter.forget_idle(), 1);
        assert_eq!(limiter.tracked_scopes(), 1);
        drop(held);
    }
}
