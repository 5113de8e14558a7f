//! A request's hold on its budgets between the call and its cost.

use super::budget::BudgetLimit;
use super::clock;
use super::ledger::{AlertKind, BudgetState, sane_cost};
use super::registry::{Slot, lock};
use super::scope::BudgetScope;

/// A budget level that spend reached: for the alert webhook. Each kind is
/// raised once per period per scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub scope: BudgetScope,
    pub kind: AlertKind,
    /// Spent in the period after this request.
    pub spent: f64,
    /// `soft_budget` for `Soft`, else `max_budget` (the threshold is
    /// `fraction × limit`).
    pub limit: f64,
}

#[derive(Debug)]
pub(super) struct HeldBudget {
    pub scope: BudgetScope,
    pub limit: BudgetLimit,
    pub slot: Slot<BudgetState>,
}

/// Returned by `Budgets::reserve`. Settle it with the real cost; dropped
/// without settling (the call failed, the client went away before any
/// usage) it releases the reservation and costs nothing.
#[derive(Debug)]
pub struct Reservation {
    held: Vec<HeldBudget>,
    amount: f64,
    alert_threshold: f64,
    open: bool,
}

impl Reservation {
    pub(super) fn new(held: Vec<HeldBudget>, amount: f64, alert_threshold: f64) -> Self {
        Reservation {
            held,
            amount,
            alert_threshold,
            open: true,
        }
    }

    /// The worst-case cost reserved on each scope.
    pub fn amount(&self) -> f64 {
        self.amount
    }

    /// Releases the reservation and adds `real_cost` to every scope's spend
    /// (in the scope's current period: a request that straddles a reset
    /// counts in the new one). Returns the alerts this spend crossed into.
    pub fn settle(mut self, real_cost: f64) -> Vec<Alert> {
        self.close(real_cost, clock::unix_secs())
    }

    #[cfg(test)]
    pub(crate) fn settle_at(mut self, real_cost: f64, now: u64) -> Vec<Alert> {
        self.close(real_cost, now)
    }

    fn close(&mut self, cost: f64, now: u64) -> Vec<Alert> {
        self.open = false;
        let cost = sane_cost(cost);
        let mut alerts = Vec::new();
        for held in &self.held {
            let mut state = lock(&held.slot);
            state.roll(held.limit.period, now);
            let limits = (held.limit.max_budget, held.limit.soft_budget);
            let kinds = state.settle(self.amount, cost, limits, self.alert_threshold);
            for kind in kinds {
                let limit = match kind {
                    AlertKind::Soft => held.limit.soft_budget,
                    _ => held.limit.max_budget,
                };
                alerts.push(Alert {
                    scope: held.scope.clone(),
                    kind,
                    spent: state.spent,
                    limit: limit.unwrap_or(0.0),
                });
            }
        }
        alerts
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.open {
            self.close(0.0, clock::unix_secs());
        }
    }
}
