//! Tag budgets have no row of their own: at start-up each configured tag's
//! ledger is seeded with what the spend logs say it spent in its last
//! period (the last `time_period` up to now; everything for a budget that
//! never resets), so that a restart does not hand a tag a fresh budget.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Enforcer;
use crate::config::TagBudget;
use crate::limits::{BudgetScope, Period};
use crate::store::Store;

pub async fn seed_tag_budgets(
    store: &Store,
    enforcer: &Enforcer,
    budgets: &[TagBudget],
) -> Result<(), String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for b in budgets {
        let since = b.period.map_or(0, |p: Period| p.previous_start(now));
        let (spent,): (f64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(cost), 0) AS DOUBLE PRECISION) FROM sy_spend_log_tags WHERE tag = $1 AND start_time >= $2",
        )
        .bind(&b.tag)
        .bind((since * 1000) as i64)
        .fetch_one(&store.pool)
        .await
        .map_err(|e| format!("cannot read the spend of tag {:?}: {e}", b.tag))?;
        enforcer
            .budgets
            .set_spent(&BudgetScope::Tag(b.tag.as_str().into()), spent, None);
    }
    Ok(())
}
