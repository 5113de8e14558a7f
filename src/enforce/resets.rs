//! Budget periods end in memory (`limits::Budgets` rolls them on the next
//! request); this task writes each ended period to the database every few
//! seconds, off the request path: spend back to 0 and the next
//! `budget_reset_at`, as LiteLLM's reset job does.

use std::sync::Arc;
use std::time::Duration;

use crate::api::Gateway;
use crate::limits::{BudgetScope, ResetEvent};
use crate::store::Store;

const EVERY: Duration = Duration::from_secs(5);

pub fn spawn_reset_persister(gw: Arc<Gateway>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let resets = gw.enforcer.budgets.take_resets();
            for reset in resets {
                if let Err(e) = persist(&gw.store, &reset).await {
                    tracing::warn!(scope = %reset.scope, "cannot record a budget reset: {e}");
                }
            }
        }
    })
}

async fn persist(store: &Store, reset: &ResetEvent) -> Result<(), sqlx::Error> {
    let now = crate::store::accounts::now();
    let next = reset.next_reset as i64;
    let query = match &reset.scope {
        BudgetScope::Key(id) => sqlx::query(
            "UPDATE sy_keys SET spend = 0, budget_reset_at = $2, updated_at = $3 WHERE token_hash = $1",
        )
        .bind(id.as_ref())
        .bind(next),
        BudgetScope::User(id) => sqlx::query(
            "UPDATE sy_users SET spend = 0, budget_reset_at = $2, updated_at = $3 WHERE user_id = $1",
        )
        .bind(id.as_ref())
        .bind(next),
        BudgetScope::Team(id) => sqlx::query(
            "UPDATE sy_teams SET spend = 0, budget_reset_at = $2, updated_at = $3 WHERE team_id = $1",
        )
        .bind(id.as_ref())
        .bind(next),
        // An end user's period is its budget row's, shared by many.
        BudgetScope::EndUser(id) => {
            sqlx::query("UPDATE sy_end_users SET spend = 0, updated_at = $2 WHERE end_user_id = $1")
                .bind(id.as_ref())
        }
        // Kept in memory only: nothing stored to reset.
        BudgetScope::Tag(_) | BudgetScope::ModelPerKey { .. } => return Ok(()),
    };
    query.bind(now).execute(&store.pool).await?;
    Ok(())
}
