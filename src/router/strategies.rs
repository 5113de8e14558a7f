//! Choosing one deployment among the healthy ones: capacity caps (`rpm`,
//! `max_parallel_requests`), `order` priority, tags, then the strategy.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::state::DeploymentState;
use crate::config::{Deployment, Strategy};

/// A deployment with its state, as the strategies see it.
pub type Candidate = (Arc<Deployment>, Arc<DeploymentState>);

/// Deployments under their `rpm` and `max_parallel_requests` this moment.
pub fn with_capacity(candidates: Vec<Candidate>, now: Instant) -> Vec<Candidate> {
    candidates
        .into_iter()
        .filter(|(d, s)| {
            d.rpm.is_none_or(|rpm| s.requests_this_minute(now) < rpm)
                && d.tpm.is_none_or(|tpm| s.tokens_this_minute(now) < tpm)
                && d.max_parallel_requests
                    .is_none_or(|cap| s.in_flight.load(Ordering::Relaxed) < cap)
        })
        .collect()
}

/// Only those with the lowest `order` (none counts as last).
pub fn first_in_order(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let best = candidates
        .iter()
        .map(|(d, _)| d.order.unwrap_or(u32::MAX))
        .min()
        .unwrap_or(u32::MAX);
    candidates
        .into_iter()
        .filter(|(d, _)| d.order.unwrap_or(u32::MAX) == best)
        .collect()
}

/// Tag routing: deployments carrying any requested tag; else those tagged
/// `default`; a request without tags may use any deployment. None: no match.
pub fn tagged(candidates: &[Candidate], tags: &[String]) -> Option<Vec<Candidate>> {
    if tags.is_empty() {
        return Some(candidates.to_vec());
    }
    let matching = |want: &dyn Fn(&str) -> bool| -> Vec<Candidate> {
        candidates
            .iter()
            .filter(|(d, _)| d.tags.iter().any(|t| want(t)))
            .cloned()
            .collect()
    };
    let hit = matching(&|t| tags.iter().any(|w| w == t));
    if !hit.is_empty() {
        return Some(hit);
    }
    let default = matching(&|t| t == "default");
    (!default.is_empty()).then_some(default)
}

/// The strategy's pick; `candidates` is not empty.
pub fn choose(
    strategy: Strategy,
    candidates: &[Candidate],
    buffer: f64,
    now: Instant,
) -> Arc<Deployment> {
    let pick_min = |key: &dyn Fn(&Candidate) -> f64, slack: f64| {
        let best = candidates.iter().map(key).fold(f64::INFINITY, f64::min);
        let near: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| key(c) <= best * (1.0 + slack) + f64::EPSILON)
            .collect();
        near[fastrand::usize(..near.len())].0.clone()
    };
    match strategy {
        Strategy::SimpleShuffle => {
            let ds: Vec<Arc<Deployment>> = candidates.iter().map(|(d, _)| d.clone()).collect();
            super::pick_weighted(&ds, fastrand::f64()).clone()
        }
        Strategy::LeastBusy => pick_min(&|(_, s)| s.in_flight.load(Ordering::Relaxed) as f64, 0.0),
        // Not measured yet counts as fastest, so every deployment gets tried.
        Strategy::LatencyBased => pick_min(
            &|(_, s)| s.latency().map_or(0.0, |l| l.as_secs_f64()),
            buffer,
        ),
        Strategy::CostBased => pick_min(&|(d, _)| d.cost_per_token.unwrap_or(f64::MAX), 0.0),
        // Most headroom this minute: the least used of its rpm and tpm.
        Strategy::UsageBased => pick_min(
            &|(d, s)| {
                let share = |used: u64, cap: Option<u64>| match cap {
                    Some(cap) if cap > 0 => used as f64 / cap as f64,
                    _ => used as f64 / 1e9,
                };
                share(s.requests_this_minute(now), d.rpm)
                    .max(share(s.tokens_this_minute(now), d.tpm))
            },
            0.0,
        ),
    }
}
