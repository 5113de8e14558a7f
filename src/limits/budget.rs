//! Budgets that hold under concurrency, by reservation.
//!
//! Before a call the gateway reserves the request's worst-case cost on every
//! budget it spends (a key in a team reserves on both); a reservation is
//! refused when `spent + reserved + worst_case` would pass `max_budget` on
//! any of them, and then nothing is reserved anywhere. After the call the
//! reservation is settled with the real cost.
//!
//! # The guarantee
//!
//! For every scope, at every moment of a period:
//!
//! ```text
//! spent + reserved ≤ max_budget + Σ max(0, real_cost − reserved_amount)
//! ```
//!
//! the sum running over the reservations settled this period. Admission
//! keeps `spent + reserved ≤ max_budget`; a settlement changes the left side
//! by `real − reserved`; a release or a reset only lowers it. So N concurrent
//! callers can never together spend more than the budget, except by what
//! their real costs exceeded their own worst-case estimates (zero when the
//! estimates are true worst cases); concurrency adds nothing.

use std::fmt;

use super::clock;
use super::duration::Period;
use super::ledger::{BudgetState, sane_cost};
use super::registry::{Registry, lock};
use super::reservation::{HeldBudget, Reservation};
use super::scope::BudgetScope;

/// The alert threshold when none is configured: 80 % of `max_budget`.
pub const DEFAULT_ALERT_THRESHOLD: f64 = 0.8;

/// A scope's budget settings; all `None` means the scope is not tracked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BudgetLimit {
    /// Refuse requests once this much is spent in the period.
    pub max_budget: Option<f64>,
    /// Alert (only) once this much is spent in the period.
    pub soft_budget: Option<f64>,
    /// `budget_duration`; `None`: the period never ends.
    pub period: Option<Period>,
}

impl BudgetLimit {
    fn is_tracked(&self) -> bool {
        self.max_budget.is_some() || self.soft_budget.is_some()
    }
}

/// A request refused by a budget: 429 with error type `budget_exceeded`.
#[derive(Debug, Clone, PartialEq)]
pub struct OverBudget {
    pub scope: BudgetScope,
    pub spent: f64,
    /// Reserved by requests in flight.
    pub reserved: f64,
    /// What this request could cost at most.
    pub worst_case: f64,
    pub max_budget: f64,
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Budget has been exceeded for {}! Current cost: {}, Max budget: {}",
            self.scope, self.spent, self.max_budget
        )?;
        if self.spent < self.max_budget {
            write!(
                f,
                " (this request could cost up to {}; {} is reserved by requests in flight)",
                self.worst_case, self.reserved
            )?;
        }
        Ok(())
    }
}

/// A budget period that ended: spend went back to 0 at `period_start`, and
/// the next reset is `next_reset` (unix seconds). For the lead to persist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetEvent {
    pub scope: BudgetScope,
    pub period_start: u64,
    pub next_reset: u64,
}

/// A scope's books now (for `/key/info` and the like).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetUsage {
    pub spent: f64,
    pub reserved: f64,
    pub in_flight: u32,
    pub period_start: Option<u64>,
    pub next_reset: Option<u64>,
}

/// The budget ledger of every tracked scope, in this process.
pub struct Budgets {
    scopes: Registry<BudgetScope, BudgetState>,
    alert_threshold: f64,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets::new(DEFAULT_ALERT_THRESHOLD)
    }
}

impl Budgets {
    /// `alert_threshold`: the fraction of `max_budget` that raises a
    /// `Threshold` alert (outside (0, 1] it falls back to 0.8).
    pub fn new(alert_threshold: f64) -> Self {
        let valid = alert_threshold > 0.0 && alert_threshold <= 1.0;
        Budgets {
            scopes: Registry::default(),
            alert_threshold: if valid {
                alert_threshold
            } else {
                DEFAULT_ALERT_THRESHOLD
            },
        }
    }

    /// Loads a scope's spend this period from storage, at start-up or when
    /// its budget changes. `period_start` (unix seconds) anchors the resets;
    /// `None` starts the period at the scope's next request.
    pub fn set_spent(&self, scope: &BudgetScope, spent: f64, period_start: Option<u64>) {
        lock(&self.scopes.slot(scope)).load(spent, period_start);
    }

    /// Forgets a scope (a deleted key, team, …).
    pub fn forget(&self, scope: &BudgetScope) {
        self.scopes.remove(scope);
    }

    /// Reserves `worst_case_cost` on every scope at once, or on none. Scopes
    /// with neither `max_budget` nor `soft_budget` are skipped; a scope
    /// listed twice is reserved once, with its first limit. Ended periods
    /// reset first (see `take_resets`).
    pub fn reserve(
        &self,
        scopes: &[(BudgetScope, BudgetLimit)],
        worst_case_cost: f64,
    ) -> Result<Reservation, OverBudget> {
        self.reserve_at(scopes, worst_case_cost, clock::unix_secs())
    }

    pub(crate) fn reserve_at(
        &self,
        scopes: &[(BudgetScope, BudgetLimit)],
        worst_case_cost: f64,
        now: u64,
    ) -> Result<Reservation, OverBudget> {
        let worst_case = sane_cost(worst_case_cost);
        let tracked: Vec<&(BudgetScope, BudgetLimit)> =
            scopes.iter().filter(|(_, l)| l.is_tracked()).collect();
        let slots = self
            .scopes
            .slots_in_lock_order(tracked.iter().map(|(s, _)| s));
        let mut guards: Vec<_> = slots.iter().map(|(_, slot)| lock(slot)).collect();

        // Of several refusing scopes, report the first the caller listed.
        let mut refused: Option<usize> = None;
        for ((i, _), state) in slots.iter().zip(guards.iter_mut()) {
            let limit = &tracked[*i].1;
            state.roll(limit.period, now);
            if let Some(max) = limit.max_budget
                && state.refuses(max, worst_case)
                && refused.is_none_or(|r| *i < r)
            {
                refused = Some(*i);
            }
        }
        if let Some(i) = refused {
            let position = slots.iter().position(|(j, _)| *j == i).unwrap_or(0);
            let state = &guards[position];
            return Err(OverBudget {
                scope: tracked[i].0.clone(),
                spent: state.spent,
                reserved: state.reserved,
                worst_case,
                max_budget: tracked[i].1.max_budget.unwrap_or(0.0),
            });
        }
        for state in guards.iter_mut() {
            state.reserve(worst_case);
        }
        drop(guards);
        let held = slots
            .into_iter()
            .map(|(i, slot)| HeldBudget {
                scope: tracked[i].0.clone(),
                limit: tracked[i].1,
                slot,
            })
            .collect();
        Ok(Reservation::new(held, worst_case, self.alert_threshold))
    }

    /// A scope's books, if it was ever loaded or reserved on.
    pub fn usage(&self, scope: &BudgetScope) -> Option<BudgetUsage> {
        let slot = self.scopes.existing(scope)?;
        let state = lock(&slot);
        Some(BudgetUsage {
            spent: state.spent,
            reserved: state.reserved,
            in_flight: state.in_flight,
            period_start: state.period_start,
            next_reset: state.next_reset,
        })
    }

    /// Resets every period that has ended (also those of scopes without
    /// traffic) and returns the resets not collected yet, for the lead to
    /// persist. Call it off the request path, e.g. with each spend flush.
    pub fn take_resets(&self) -> Vec<ResetEvent> {
        self.take_resets_at(clock::unix_secs())
    }

    pub(crate) fn take_resets_at(&self, now: u64) -> Vec<ResetEvent> {
        let mut events = Vec::new();
        for (scope, slot) in self.scopes.all() {
            let mut state = lock(&slot);
            let period = state.period;
            state.roll(period, now);
            if let (true, Some(period_start), Some(next_reset)) =
                (state.reset_unreported, state.period_start, state.next_reset)
            {
                state.reset_unreported = false;
                events.push(ResetEvent {
                    scope,
                    period_start,
                    next_reset,
                });
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::AlertKind;

    const T0: u64 = 1_768_471_200; // 2026-01-15T10:00:00Z

    fn key() -> BudgetScope {
        BudgetScope::Key("k".into())
    }

    fn team() -> BudgetScope {
        BudgetScope::Team("t".into())
    }

    fn max(amount: f64) -> BudgetLimit {
        BudgetLimit {
            max_budget: Some(amount),
            ..BudgetLimit::default()
        }
    }

    #[test]
    fn reserves_on_every_scope_or_on_none() {
        let budgets = Budgets::default();
        let scopes = [(key(), max(10.0)), (team(), max(1.0))];
        let held = budgets.reserve_at(&scopes, 0.6, T0).unwrap();
        assert_eq!(budgets.usage(&key()).unwrap().reserved, 0.6);
        assert_eq!(budgets.usage(&team()).unwrap().reserved, 0.6);
        let over = budgets.reserve_at(&scopes, 0.6, T0).unwrap_err();
        assert_eq!(over.scope, team());
        assert_eq!(
            (over.spent, over.reserved, over.max_budget),
            (0.0, 0.6, 1.0)
        );
        assert!(
            over.to_string()
                .starts_with("Budget has been exceeded for team \"t\"!")
        );
        // The refused request reserved nothing on the key.
        assert_eq!(budgets.usage(&key()).unwrap().reserved, 0.6);
        assert!(held.settle(0.5).is_empty());
        let key_usage = budgets.usage(&key()).unwrap();
        assert_eq!(
            (key_usage.spent, key_usage.reserved, key_usage.in_flight),
            (0.5, 0.0, 0)
        );
        assert_eq!(budgets.usage(&team()).unwrap().spent, 0.5);
    }

    #[test]
    fn a_dropped_reservation_costs_nothing() {
        let budgets = Budgets::default();
        drop(budgets.reserve_at(&[(key(), max(1.0))], 0.9, T0).unwrap());
        let usage = budgets.usage(&key()).unwrap();
        assert_eq!(
            (usage.spent, usage.reserved, usage.in_flight),
            (0.0, 0.0, 0)
        );
    }

    #[test]
    fn reports_the_first_listed_scope_that_refuses() {
        let budgets = Budgets::default();
        budgets.set_spent(&key(), 5.0, None);
        budgets.set_spent(&team(), 5.0, None);
        let scopes = [(team(), max(5.0)), (key(), max(5.0))];
        assert_eq!(
            budgets.reserve_at(&scopes, 0.0, T0).unwrap_err().scope,
            team()
        );
    }

    #[test]
    fn untracked_scopes_are_skipped_and_bad_costs_count_as_zero() {
        let budgets = Budgets::default();
        let scopes = [(key(), BudgetLimit::default())];
        budgets.reserve_at(&scopes, 1e9, T0).unwrap().settle(5.0);
        assert!(budgets.usage(&key()).is_none());
        let held = budgets
            .reserve_at(&[(team(), max(1.0))], f64::NAN, T0)
            .unwrap();
        assert_eq!(held.amount(), 0.0);
        held.settle_at(-3.0, T0);
        assert_eq!(budgets.usage(&team()).unwrap().spent, 0.0);
    }

    #[test]
    fn periods_reset_on_time_and_are_reported_once() {
        let budgets = Budgets::default();
        let daily = BudgetLimit {
            max_budget: Some(1.0),
            soft_budget: None,
            period: Some(Period::parse("1d").unwrap()),
        };
        budgets.set_spent(&key(), 1.0, Some(T0));
        let scopes = [(key(), daily)];
        assert!(budgets.reserve_at(&scopes, 0.1, T0 + 3_600).is_err());
        assert!(budgets.take_resets_at(T0 + 3_600).is_empty());
        // Two and a half days later: the period started on day 2's boundary.
        let later = T0 + 2 * 86_400 + 43_200;
        budgets
            .reserve_at(&scopes, 0.1, later)
            .unwrap()
            .settle_at(0.1, later);
        let expected = ResetEvent {
            scope: key(),
            period_start: T0 + 2 * 86_400,
            next_reset: T0 + 3 * 86_400,
        };
        assert_eq!(budgets.take_resets_at(later), vec![expected]);
        assert!(budgets.take_resets_at(later).is_empty());
        assert_eq!(budgets.usage(&key()).unwrap().spent, 0.1);
    }

    #[test]
    fn take_resets_also_resets_scopes_without_traffic() {
        let budgets = Budgets::default();
        let monthly = BudgetLimit {
            period: Some(Period::Months(1)),
            ..max(1.0)
        };
        budgets
            .reserve_at(&[(team(), monthly)], 0.0, T0)
            .unwrap()
            .settle_at(0.7, T0);
        let events = budgets.take_resets_at(T0 + 40 * 86_400);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].period_start, 1_771_149_600); // 2026-02-15T10:00Z
        assert_eq!(budgets.usage(&team()).unwrap().spent, 0.0);
    }

    #[test]
    fn settle_raises_each_alert_once_with_scope_and_limit() {
        let budgets = Budgets::new(0.5);
        let limit = BudgetLimit {
            soft_budget: Some(2.0),
            ..max(10.0)
        };
        let scopes = [(key(), limit)];
        let alerts = budgets
            .reserve_at(&scopes, 1.0, T0)
            .unwrap()
            .settle_at(6.0, T0);
        let kinds: Vec<_> = alerts.iter().map(|a| (a.kind, a.limit, a.spent)).collect();
        assert_eq!(
            kinds,
            vec![
                (AlertKind::Soft, 2.0, 6.0),
                (AlertKind::Threshold(0.5), 10.0, 6.0)
            ]
        );
        assert_eq!(alerts[0].scope, key());
        let alerts = budgets
            .reserve_at(&scopes, 1.0, T0)
            .unwrap()
            .settle_at(5.0, T0);
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            (alerts[0].kind, alerts[0].spent),
            (AlertKind::Exceeded, 11.0)
        );
        assert!(budgets.reserve_at(&scopes, 0.0, T0).is_err());
    }
}
