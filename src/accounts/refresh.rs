//! Loading the registry from the database, and keeping it in step with
//! what other gateway instances on the same database change.
//!
//! Each refresh reads the rows whose `updated_at` is at or after the latest
//! one seen, less an overlap, and the deletions recorded since then. The
//! overlap covers writes committed a little after the time they were
//! stamped with, and clocks a little apart between instances; rows read
//! twice are simply applied twice. Every few minutes everything is read
//! again, which repairs anything a refresh could still have missed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::{Accounts, Tables};
use crate::store::Store;
use crate::store::accounts::deletions::{self, Kind};
use crate::store::accounts::{budgets, end_users, keys, teams, users};

/// How often other instances' changes are picked up, unless configured
/// (`general_settings.accounts_refresh_interval`).
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// Seconds re-read before the latest change seen.
const OVERLAP_SECONDS: i64 = 10;

/// How often the whole registry is read again.
const FULL_RELOAD_EVERY: Duration = Duration::from_secs(300);

impl Accounts {
    /// A registry holding every account in the database.
    pub async fn load(store: &Store) -> Result<Accounts, String> {
        let accounts = Accounts::new();
        accounts
            .reload(store)
            .await
            .map_err(|e| format!("cannot read accounts from the database: {e}"))?;
        Ok(accounts)
    }

    /// Replaces everything with what the database holds now.
    pub async fn reload(&self, store: &Store) -> Result<(), sqlx::Error> {
        let pool = &store.pool;
        let (team_rows, user_rows) = (teams::all(pool).await?, users::all(pool).await?);
        let (budget_rows, end_user_rows) = (budgets::all(pool).await?, end_users::all(pool).await?);
        let key_rows = keys::all(pool).await?;
        // Built aside, then swapped in: requests never see a half-loaded registry.
        let mut fresh = Tables::default();
        let mut latest = 0;
        for t in team_rows {
            latest = latest.max(t.updated_at);
            fresh.teams.insert(t.team_id.clone(), Arc::new(t));
        }
        for u in user_rows {
            latest = latest.max(u.updated_at);
            fresh.users.insert(u.user_id.clone(), Arc::new(u));
        }
        for b in budget_rows {
            latest = latest.max(b.updated_at);
            fresh.budgets.insert(b.budget_id.clone(), Arc::new(b));
        }
        for e in end_user_rows {
            latest = latest.max(e.updated_at);
            fresh.end_users.insert(e.end_user_id.clone(), Arc::new(e));
        }
        for k in key_rows {
            latest = latest.max(k.updated_at);
            fresh.put_key(k);
        }
        *self.write() = fresh;
        self.latest_change.fetch_max(latest, Ordering::Relaxed);
        Ok(())
    }

    /// Applies what changed in the database since the last read; returns
    /// how many rows and deletions were applied.
    pub async fn refresh(&self, store: &Store) -> Result<usize, sqlx::Error> {
        let pool = &store.pool;
        let since = self.latest_change.load(Ordering::Relaxed) - OVERLAP_SECONDS;
        // Deletions first, rows after: a row read after its deletion record
        // was recreated since, and is alive.
        let gone = deletions::since(pool, since).await?;
        let team_rows = teams::changed_since(pool, since).await?;
        let user_rows = users::changed_since(pool, since).await?;
        let budget_rows = budgets::changed_since(pool, since).await?;
        let end_user_rows = end_users::changed_since(pool, since).await?;
        let key_rows = keys::changed_since(pool, since).await?;
        let applied = gone.len()
            + team_rows.len()
            + user_rows.len()
            + budget_rows.len()
            + end_user_rows.len()
            + key_rows.len();

        let mut latest = since;
        let mut t = self.write();
        for (kind, id, at) in gone {
            latest = latest.max(at);
            match kind {
                Kind::Key => {
                    t.keys.remove(&id);
                }
                Kind::Team => t.remove_team(&id),
                Kind::User => t.remove_user(&id),
                Kind::EndUser => {
                    t.end_users.remove(&id);
                }
                Kind::Budget => {
                    t.budgets.remove(&id);
                }
            }
        }
        for row in team_rows {
            latest = latest.max(row.updated_at);
            t.put_team(row);
        }
        for row in user_rows {
            latest = latest.max(row.updated_at);
            t.put_user(row);
        }
        for row in budget_rows {
            latest = latest.max(row.updated_at);
            t.budgets.insert(row.budget_id.clone(), Arc::new(row));
        }
        for row in end_user_rows {
            latest = latest.max(row.updated_at);
            t.end_users.insert(row.end_user_id.clone(), Arc::new(row));
        }
        for row in key_rows {
            latest = latest.max(row.updated_at);
            t.put_key(row);
        }
        drop(t);
        self.latest_change.fetch_max(latest, Ordering::Relaxed);
        Ok(applied)
    }

    /// Refreshes every `interval` in the background until the registry is
    /// dropped. A database that cannot be reached is logged and retried;
    /// requests go on being served from memory meanwhile.
    pub fn spawn_refresh(self: &Arc<Self>, store: Store, interval: Duration) -> JoinHandle<()> {
        let registry = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is immediate; start-up just loaded
            let mut last_full = Instant::now();
            loop {
                ticks.tick().await;
                let Some(accounts) = registry.upgrade() else {
                    return;
                };
                let outcome = if last_full.elapsed() >= FULL_RELOAD_EVERY {
                    last_full = Instant::now();
                    accounts.reload(&store).await
                } else {
                    accounts.refresh(&store).await.map(drop)
                };
                if let Err(e) = outcome {
                    tracing::warn!("accounts refresh failed (serving from memory): {e}");
                }
            }
        })
    }
}
