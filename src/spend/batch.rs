//! Writing one batch of spend records: in one transaction, the log rows,
//! their tag rows, and the running `spend` totals of the keys, teams, users
//! and end users they name (tables of the accounts migration). One
//! transaction per batch is what makes batching pay: the database syncs
//! once, not once per request.

use std::collections::HashMap;

use sqlx::{Acquire, Any, Row, Transaction};

use super::record::SpendRecord;
use crate::store::{Backend, Store};

/// The columns of a log row, in the order they are bound.
const LOG_COLUMNS: &str = "request_id, call_type, key_hash, key_alias, user_id, team_id, end_user, tags,
    model_group, deployment_id, provider, api_base, model,
    prompt_tokens, completion_tokens, cached_read_tokens, cache_write_tokens, total_tokens,
    cost, cost_estimated, start_time, end_time, ttft_ms, status, error_type, http_status, cache_hit";
const LOG_BINDS: usize = 27;

/// Rows per INSERT statement: one statement (parsed and planned once) for
/// many rows is what keeps the writer's share of a busy core small; 100
/// rows of 27 values stay far below both databases' limits on parameters.
const ROWS_PER_STATEMENT: usize = 100;

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
    // A record handed in twice within the batch is written once.
    let mut seen = std::collections::HashSet::with_capacity(records.len());
    let records: Vec<&SpendRecord> = records
        .iter()
        .filter(|r| seen.insert(r.request_id.as_str()))
        .collect();
    let mut tx = store.pool.begin().await?;
    let mut totals = Totals::default();
    let mut inserted = 0;
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let fresh = insert_logs(&mut tx, store.backend, chunk).await?;
        insert_tags(&mut tx, store.backend, &fresh).await?;
        for r in &fresh {
            totals.add(r);
        }
        inserted += fresh.len();
    }
    totals.apply(&mut tx).await?;
    tx.commit().await?;
    Ok(inserted)
}

/// `($1, …, $n), ($n+1, …)` (PostgreSQL) or `(?, …), (?, …)` (SQLite):
/// placeholders only, never values. SQLite gets anonymous ones because
/// looking up a numbered parameter's name is linear in the statement's
/// parameters (sqlx binds by name), which made large statements quadratic.
fn placeholders(backend: Backend, rows: usize, per_row: usize) -> String {
    let mut sql = String::with_capacity(rows * per_row * 5);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..per_row {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * per_row + col + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Inserts the log rows of `chunk`; the records that were new. The common
/// case is one plain statement inside a savepoint; only when some id was
/// logged already (a record handed in twice) is it undone and redone with
/// `RETURNING` to learn which: returning every id always would hand each
/// row across threads (sqlx's SQLite worker) for nothing.
async fn insert_logs<'r>(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    chunk: &[&'r SpendRecord],
) -> Result<Vec<&'r SpendRecord>, sqlx::Error> {
    let values = placeholders(backend, chunk.len(), LOG_BINDS);
    let insert = format!(
        "INSERT INTO sy_spend_logs ({LOG_COLUMNS}) VALUES {values} ON CONFLICT (request_id) DO NOTHING"
    );
    let mut savepoint = tx.begin().await?;
    let done = bound(sqlx::query(sqlx::AssertSqlSafe(insert.clone())), chunk)
        .execute(&mut *savepoint)
        .await?;
    if done.rows_affected() == chunk.len() as u64 {
        savepoint.commit().await?;
        return Ok(chunk.to_vec());
    }
    savepoint.rollback().await?;
    let returning = format!("{insert} RETURNING request_id");
    let rows = bound(sqlx::query(sqlx::AssertSqlSafe(returning)), chunk)
        .fetch_all(&mut **tx)
        .await?;
    let new: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    Ok(chunk
        .iter()
        .copied()
        .filter(|r| new.contains(&r.request_id))
        .collect())
}

/// The values of `chunk`'s rows, in `LOG_COLUMNS` order.
fn bound<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    chunk: &[&SpendRecord],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for r in chunk {
        query = query
            .bind(r.request_id.clone())
            .bind(r.call_type.as_str())
            .bind(r.key_hash.clone())
            .bind(r.key_alias.clone())
            .bind(r.user_id.clone())
            .bind(r.team_id.clone())
            .bind(r.end_user.clone())
            .bind(serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into()))
            .bind(r.model_group.clone())
            .bind(r.deployment_id.clone())
            .bind(r.provider.clone())
            .bind(r.api_base.clone())
            .bind(r.model.clone())
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
            .bind(r.error_type.clone())
            .bind(i32::from(r.http_status))
            .bind(r.cache_hit);
    }
    query
}

/// The tag rows of the new log rows, in one statement.
async fn insert_tags(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    fresh: &[&SpendRecord],
) -> Result<(), sqlx::Error> {
    let rows: Vec<(&SpendRecord, &str)> = fresh
        .iter()
        .flat_map(|r| r.distinct_tags().into_iter().map(move |t| (*r, t)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // 1000 rows of 4 values: within every database's parameter limit.
    for part in rows.chunks(1000) {
        let sql = format!(
            "INSERT INTO sy_spend_log_tags (request_id, tag, start_time, cost) VALUES {}",
            placeholders(backend, part.len(), 4)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (r, tag) in part {
            query = query
                .bind(r.request_id.clone())
                .bind(tag.to_string())
                .bind(r.start_time_ms)
                .bind(r.cost);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
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
