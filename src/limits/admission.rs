//! An admitted request's hold on its scopes' rate limits. Keep it alive for
//! as long as the request runs (a stream until its last chunk): dropping it
//! frees the request's parallel slots.

use axum::http::{HeaderName, HeaderValue};

use super::clock;
use super::headers;
use super::quota::RateSnapshot;
use super::rate::{Limits, RateState};
use super::registry::{Slot, lock};

/// One scope the request counts against.
#[derive(Debug)]
pub(super) struct Held {
    pub limits: Limits,
    pub slot: Slot<RateState>,
}

/// Returned by `Limiter::check_and_start`; RAII: dropping it ends the
/// request for `max_parallel_requests`.
#[derive(Debug)]
pub struct Admission {
    held: Vec<Held>,
    /// Tokens counted at the start, in `minute`, until the real ones are known.
    estimate: u64,
    minute: u64,
    recorded: bool,
}

impl Admission {
    pub(super) fn new(held: Vec<Held>, estimate: u64, minute: u64) -> Self {
        Admission {
            held,
            estimate,
            minute,
            recorded: false,
        }
    }

    /// Counts the tokens the request really used against `tpm`. The first
    /// call replaces the estimate counted at the start; later calls add (a
    /// stream may report in parts). Without any call the estimate is taken
    /// back when the admission is dropped: a call that failed used nothing,
    /// so a request whose usage is unknown should record its estimate.
    pub fn record_tokens(&mut self, tokens: u64) {
        self.record_tokens_at(tokens, clock::unix_millis());
    }

    pub(crate) fn record_tokens_at(&mut self, tokens: u64, now_ms: u64) {
        for held in &self.held {
            let mut state = lock(&held.slot);
            if !self.recorded {
                state.tokens.take_back(self.minute, self.estimate);
            }
            state.tokens.add(now_ms, tokens);
        }
        self.recorded = true;
    }

    /// The tightest requests and tokens quotas of the request's scopes now.
    pub fn snapshot(&self) -> RateSnapshot {
        self.snapshot_at(clock::unix_millis())
    }

    pub(crate) fn snapshot_at(&self, now_ms: u64) -> RateSnapshot {
        let mut snapshot = RateSnapshot::default();
        for held in &self.held {
            snapshot.observe(&mut lock(&held.slot), &held.limits, now_ms);
        }
        snapshot
    }

    /// `x-ratelimit-*` headers for a successful response (none when the
    /// request's scopes have no `rpm` or `tpm`).
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        headers::quota_headers(&self.snapshot())
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        for held in &self.held {
            let mut state = lock(&held.slot);
            state.in_flight = state.in_flight.saturating_sub(1);
            if !self.recorded {
                state.tokens.take_back(self.minute, self.estimate);
            }
        }
    }
}
