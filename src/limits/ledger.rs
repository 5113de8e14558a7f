//! One budget scope's books: what is spent this period, what requests in
//! flight have reserved, when the period ends, and which alerts this period
//! has already sent.

use super::duration::Period;

/// Spend and reservations are dollars as `f64`; sums of many small costs
/// drift in the last bits, so comparisons with a budget allow a billionth of
/// it either way (a ten-dollar budget: a hundred-millionth of a cent).
fn tolerance(max: f64) -> f64 {
    max.abs() * 1e-9
}

/// A cost from outside: negative, NaN or infinite-negative counts as 0.
pub(super) fn sane_cost(cost: f64) -> f64 {
    if cost > 0.0 { cost } else { 0.0 }
}

/// What a budget can alert about, once per period each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AlertKind {
    /// `spent` reached `soft_budget` (an alert only, nothing is refused).
    Soft,
    /// `spent` reached this fraction of `max_budget` (default 0.8).
    Threshold(f64),
    /// `spent` reached `max_budget`; later requests are refused.
    Exceeded,
}

/// Alerts already sent this period.
#[derive(Debug, Default, Clone, Copy)]
struct Sent {
    soft: bool,
    threshold: bool,
    exceeded: bool,
}

#[derive(Debug, Default)]
pub(super) struct BudgetState {
    pub spent: f64,
    pub reserved: f64,
    /// Open reservations; at zero `reserved` is set back to exactly 0 so that
    /// float residue cannot build up.
    pub in_flight: u32,
    /// The period last seen in a limit, and the current period's bounds.
    pub period: Option<Period>,
    pub period_start: Option<u64>,
    pub next_reset: Option<u64>,
    /// A reset the lead has not yet collected with `Budgets::take_resets`.
    pub reset_unreported: bool,
    sent: Sent,
}

impl BudgetState {
    /// Brings the period up to `now`: a scope never seen starts its period
    /// now; a period that has ended starts again with nothing spent. Money
    /// reserved by requests in flight stays reserved (they settle into the
    /// new period). True when it reset.
    pub fn roll(&mut self, period: Option<Period>, now: u64) -> bool {
        let Some(period) = period else {
            self.period = None;
            self.next_reset = None;
            return false;
        };
        let start = *self.period_start.get_or_insert(now);
        let next = match self.next_reset {
            Some(next) if self.period == Some(period) => next,
            _ => period.next_reset(start),
        };
        self.period = Some(period);
        self.next_reset = Some(next);
        if now < next {
            return false;
        }
        let start = period.current_start(next, now);
        self.period_start = Some(start);
        self.next_reset = Some(period.next_reset(start));
        self.spent = 0.0;
        self.sent = Sent::default();
        self.reset_unreported = true;
        true
    }

    /// Whether `worst_case` more must be refused under `max`: when the
    /// budget is spent, or spent plus reserved plus this request exceeds it.
    pub fn refuses(&self, max: f64, worst_case: f64) -> bool {
        self.spent >= max - tolerance(max)
            || self.spent + self.reserved + worst_case > max + tolerance(max)
    }

    pub fn reserve(&mut self, amount: f64) {
        self.reserved += amount;
        self.in_flight += 1;
    }

    /// Ends one reservation of `amount`, adding `cost` to the spend; the
    /// alerts the spend crossed into, each once per period.
    pub fn settle(
        &mut self,
        amount: f64,
        cost: f64,
        limits: (Option<f64>, Option<f64>),
        threshold: f64,
    ) -> Vec<AlertKind> {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.reserved = if self.in_flight == 0 {
            0.0
        } else {
            (self.reserved - amount).max(0.0)
        };
        let before = self.spent;
        self.spent += cost;
        let after = self.spent;
        // Crossings, not levels: spend loaded above a level at start-up was
        // alerted about before (or will be, by whoever loaded it).
        let crossed =
            |level: f64| before < level - tolerance(level) && after >= level - tolerance(level);
        let (max, soft) = limits;
        let mut alerts = Vec::new();
        if let Some(soft) = soft
            && !self.sent.soft
            && crossed(soft)
        {
            self.sent.soft = true;
            alerts.push(AlertKind::Soft);
        }
        if let Some(max) = max {
            if !self.sent.threshold && crossed(max * threshold) {
                self.sent.threshold = true;
                alerts.push(AlertKind::Threshold(threshold));
            }
            if !self.sent.exceeded && crossed(max) {
                self.sent.exceeded = true;
                alerts.push(AlertKind::Exceeded);
            }
        }
        alerts
    }

    /// Spend loaded from storage: a new baseline for this period.
    pub fn load(&mut self, spent: f64, period_start: Option<u64>) {
        self.spent = sane_cost(spent);
        self.period_start = period_start;
        self.next_reset = None;
        self.sent = Sent::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_scope_starts_its_period_on_first_use() {
        let mut state = BudgetState::default();
        assert!(!state.roll(Some(Period::Seconds(60)), 1_000));
        assert_eq!(
            (state.period_start, state.next_reset),
            (Some(1_000), Some(1_060))
        );
    }

    #[test]
    fn an_ended_period_starts_again_on_its_cadence() {
        let mut state = BudgetState::default();
        state.load(5.0, Some(1_000));
        state.reserve(1.0);
        assert!(!state.roll(Some(Period::Seconds(60)), 1_059));
        assert!(state.roll(Some(Period::Seconds(60)), 1_200));
        assert_eq!(
            (state.period_start, state.next_reset),
            (Some(1_180), Some(1_240))
        );
        assert_eq!((state.spent, state.reserved), (0.0, 1.0));
        assert!(state.reset_unreported);
    }

    #[test]
    fn no_period_never_resets() {
        let mut state = BudgetState::default();
        state.load(5.0, Some(0));
        assert!(!state.roll(None, u64::MAX / 2));
        assert_eq!(state.spent, 5.0);
    }

    #[test]
    fn refuses_when_spent_or_when_the_worst_case_does_not_fit() {
        let mut state = BudgetState::default();
        state.load(0.5, None);
        state.reserve(0.3);
        assert!(!state.refuses(1.0, 0.2));
        assert!(state.refuses(1.0, 0.21));
        state.load(1.0, None);
        state.in_flight = 0;
        state.reserved = 0.0;
        assert!(
            state.refuses(1.0, 0.0),
            "a spent budget refuses even free requests"
        );
    }

    #[test]
    fn refuses_nothing_for_float_residue() {
        let mut state = BudgetState::default();
        for _ in 0..9 {
            state.reserve(0.1);
        }
        assert!(!state.refuses(1.0, 0.1));
    }

    #[test]
    fn alerts_once_per_period_when_crossing() {
        let mut state = BudgetState::default();
        let limits = (Some(10.0), Some(5.0));
        state.reserve(6.0);
        assert_eq!(state.settle(6.0, 6.0, limits, 0.8), vec![AlertKind::Soft]);
        state.reserve(3.0);
        let alerts = state.settle(3.0, 3.0, limits, 0.8);
        assert_eq!(alerts, vec![AlertKind::Threshold(0.8)]);
        state.reserve(1.0);
        assert_eq!(
            state.settle(1.0, 2.0, limits, 0.8),
            vec![AlertKind::Exceeded]
        );
        state.reserve(0.0);
        assert!(state.settle(0.0, 1.0, limits, 0.8).is_empty());
        // The next period alerts again.
        state.roll(Some(Period::Seconds(10)), 0);
        state.roll(Some(Period::Seconds(10)), 10);
        state.reserve(20.0);
        assert_eq!(state.settle(20.0, 20.0, limits, 0.8).len(), 3);
        assert_eq!(state.reserved, 0.0);
    }

    #[test]
    fn loaded_spend_above_a_level_does_not_alert_again() {
        let mut state = BudgetState::default();
        state.load(9.0, None);
        state.reserve(0.5);
        assert!(
            state
                .settle(0.5, 0.5, (Some(10.0), Some(5.0)), 0.8)
                .is_empty()
        );
    }
}
