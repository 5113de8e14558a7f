//! Writing one batch of spend records: in one transaction, the log rows,
//! their tag rows, and the running `spend` totals of the keys, teams, users
//! and end users they name (tables of the accounts migration). One
//! transaction per batch is what makes batching pay: the database syncs
//! once, not once per request.

use std::collections::HashMap;

use sqlx::{Any, Transaction};

use super::record::SpendRecord;
use crate::store::Store;

const INSERT_LOG: &str = "INSERT INTO sy_spend_logs (
    request_id, call_type, key_hash, key_alias, user_id, team_id, end_user, tags,
    model_group, deployment_id, provider, api_base, model,
    prompt_tokens, completion_tokens, cached_read_tokens, cache_write_tokens, total_tokens,
    cost, cost_estimated, start_time, end_time, ttft_ms, status, error_type, http_status, cache_hit
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
          $19, $20, $21, $22, $23, $24, $25, $26, $27)
ON CONFLICT (request_id) DO NOTHING";

const INSERT_TAG: &str =
    "INSERT INTO sy_spend_log_tags (request_id, tag, start_time, cost) VALUES ($1, $2, $3, $4)";

/// The running totals, one statement per table (the names are fixed here,
/// never built from input).
const ADD_TO_KEY: &str = "UPDATE sy_keys SET spend = spend + $1 WHERE token_hash = $2";
const ADD_TO_TEAM: &str = "UPDATE sy_teams SET spend = spend + $1 WHERE team_id = $2";
const ADD_TO_USER: &str = "UPDATE sy_users SET spend = spend + $1 WHERE user_id = $2";
const ADD_TO_END_USER: &str = "UPDATE sy_end_users SET spend = spend + $1 WHERE end_user_id = $2";

/// Writes `records` in one transaction; all or nothing. Returns how many
/// rows were new: a request id already logged (a record handed in twice)
/// is skipped, and its cost is not added to the totals a second time.
pub async fn write(store: &Store, records: &[SpendRecord]) -> Result<usize, sqlx::Error> {
    let mut tx = store.pool.begin().await?;
    let mut totals = Totals::default();
    let mut inserted = 0;
    for record in records {
        if insert(&mut tx, record).await? {
            inserted += 1;
            totals.add(record);
        }
    }
    totals.apply(&mut tx).await?;
    tx.commit().await?;
    Ok(inserted)
}

/// Inserts one log row and its tag rows; false when the id was logged.
async fn insert(tx: &mut Transaction<'static, Any>, r: &SpendRecord) -> Result<bool, sqlx::Error> {
    let tags = serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into());
    let done = sqlx::query(INSERT_LOG)
        .bind(&r.request_id)
        .bind(r.call_type.as_str())
        .bind(&r.key_hash)
        .bind(&r.key_alias)
        .bind(&r.user_id)
        .bind(&r.team_id)
        .bind(&r.end_user)
        .bind(tags)
        .bind(&r.model_group)
        .bind(&r.deployment_id)
        .bind(&r.provider)
        .bind(&r.api_base)
        .bind(&r.model)
        .bind(count(r.prompt_tokens))
        .bind(count(r.completion_tokens))
        .bind(count(r.cached_read_tokens))
        .bind(count(r.cache_write_tokens))
        .bind(count(r.total_tokens))
        .bind(r.cost)
        .bind(r.cost_estimated)
        .bind(r.start_time_ms)
        .bind(r.end_time_ms)
        .bind(r.ttft_ms)
        .bind(r.status.as_str())
        .bind(&r.error_type)
        .bind(i32::from(r.http_status))
        .bind(r.cache_hit)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    for tag in r.distinct_tags() {
        sqlx::query(INSERT_TAG)
            .bind(&r.request_id)
            .bind(tag)
            .bind(r.start_time_ms)
            .bind(r.cost)
            .execute(&mut **tx)
            .await?;
    }
    Ok(true)
}

/// Token counts are stored as BIGINT; no real count comes near the limit.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The batch's cost per key, team, user and end user: one UPDATE per id
/// rather than one per record.
#[derive(Default)]
struct Totals {
    keys: HashMap<String, f64>,
    teams: HashMap<String, f64>,
    users: HashMap<String, f64>,
    end_users: HashMap<String, f64>,
}

impl Totals {
    fn add(&mut self, r: &SpendRecord) {
        if r.cost == 0.0 {
            return;
        }
        for (map, id) in [
            (&mut self.keys, &r.key_hash),
            (&mut self.teams, &r.team_id),
            (&mut self.users, &r.user_id),
            (&mut self.end_users, &r.end_user),
        ] {
            if let Some(id) = id {
                *map.entry(id.clone()).or_default() += r.cost;
            }
        }
    }

    async fn apply(self, tx: &mut Transaction<'static, Any>) -> Result<(), sqlx::Error> {
        for (sql, map) in [
            (ADD_TO_KEY, self.keys),
            (ADD_TO_TEAM, self.teams),
            (ADD_TO_USER, self.users),
            (ADD_TO_END_USER, self.end_users),
        ] {
            // Sorted, so that two writers (two gateway processes on one
            // PostgreSQL) take row locks in the same order.
            let mut rows: Vec<(String, f64)> = map.into_iter().collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            for (id, cost) in rows {
                sqlx::query(sql)
                    .bind(cost)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }
}
