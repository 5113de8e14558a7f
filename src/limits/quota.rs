//! What a client is told about its rate limits: for requests and for tokens,
//! the limit, what is left of it and when it is whole again, taken from the
//! tightest of the request's scopes (the one with the least left).

use std::time::Duration;

use super::rate::{Limits, RateState};

/// One dimension (requests or tokens) of the tightest scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u64,
    pub remaining: u64,
    /// Until the window holds nothing again, with no new traffic.
    pub reset: Duration,
}

/// Requests and tokens; `None` where no scope of the request has that limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateSnapshot {
    pub requests: Option<Quota>,
    pub tokens: Option<Quota>,
}

impl Quota {
    /// Tighter: less left, and on a tie the smaller limit.
    fn tighter_than(&self, other: &Quota) -> bool {
        (self.remaining, self.limit) < (other.remaining, other.limit)
    }
}

fn keep_tightest(slot: &mut Option<Quota>, candidate: Quota) {
    if slot.is_none_or(|current| candidate.tighter_than(&current)) {
        *slot = Some(candidate);
    }
}

impl RateSnapshot {
    /// Folds one scope's state at `now_ms` into the snapshot.
    pub(super) fn observe(&mut self, state: &mut RateState, limits: &Limits, now_ms: u64) {
        if let Some(rpm) = limits.rpm {
            let quota = Quota {
                limit: rpm,
                remaining: state.requests.remaining(now_ms, rpm),
                reset: state.requests.until_empty(now_ms),
            };
            keep_tightest(&mut self.requests, quota);
        }
        if let Some(tpm) = limits.tpm {
            let quota = Quota {
                limit: tpm,
                remaining: state.tokens.remaining(now_ms, tpm),
                reset: state.tokens.until_empty(now_ms),
            };
            keep_tightest(&mut self.tokens, quota);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_scope_with_least_left() {
        let mut snapshot = RateSnapshot::default();
        let now = 120_000;
        let mut roomy = RateState::default();
        let mut tight = RateState::default();
        tight.requests.add(now, 3);
        tight.tokens.add(now, 10);
        let limits = Limits {
            rpm: Some(5),
            tpm: Some(1_000),
            max_parallel_requests: None,
        };
        let roomy_limits = Limits {
            rpm: Some(100),
            tpm: None,
            max_parallel_requests: Some(2),
        };
        snapshot.observe(&mut roomy, &roomy_limits, now);
        snapshot.observe(&mut tight, &limits, now);
        let requests = snapshot.requests.unwrap();
        assert_eq!((requests.limit, requests.remaining), (5, 2));
        assert_eq!(requests.reset, Duration::from_secs(120));
        let tokens = snapshot.tokens.unwrap();
        assert_eq!((tokens.limit, tokens.remaining), (1_000, 990));
    }
}
