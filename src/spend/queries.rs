//! Reading log rows back: `/spend/logs` and tests.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::filter::{Bind, LogFilter, bind_all};
use super::record::SpendRecord;
use crate::store::Store;

const COLUMNS: &str = "l.request_id, l.call_type, l.key_hash, l.key_alias, l.user_id, l.team_id,
    l.end_user, l.tags, l.model_group, l.deployment_id, l.provider, l.api_base, l.model,
    l.prompt_tokens, l.completion_tokens, l.cached_read_tokens, l.cache_write_tokens,
    l.total_tokens, l.cost, l.cost_estimated, l.start_time, l.end_time, l.ttft_ms, l.status,
    l.error_type, l.http_status, l.cache_hit";

/// The rows the filter selects, newest first, at most `limit`.
pub async fn logs(
    store: &Store,
    filter: &LogFilter,
    limit: u32,
) -> Result<Vec<SpendRecord>, sqlx::Error> {
    let mut clause = filter.clause();
    clause.binds.push(Bind::Int(i64::from(limit)));
    let sql = format!(
        "SELECT {COLUMNS} FROM sy_spend_logs l {} ORDER BY l.start_time DESC, l.request_id LIMIT ${}",
        clause.sql,
        clause.binds.len()
    );
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &clause.binds)
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(record_of).collect()
}

fn record_of(row: &AnyRow) -> Result<SpendRecord, sqlx::Error> {
    let tags: String = row.try_get("tags")?;
    Ok(SpendRecord {
        request_id: row.try_get("request_id")?,
        call_type: parsed(row, "call_type")?,
        key_hash: row.try_get("key_hash")?,
        key_alias: row.try_get("key_alias")?,
        user_id: row.try_get("user_id")?,
        team_id: row.try_get("team_id")?,
        end_user: row.try_get("end_user")?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        model_group: row.try_get("model_group")?,
        deployment_id: row.try_get("deployment_id")?,
        provider: row.try_get("provider")?,
        api_base: row.try_get("api_base")?,
        model: row.try_get("model")?,
        prompt_tokens: count(row, "prompt_tokens")?,
        completion_tokens: count(row, "completion_tokens")?,
        cached_read_tokens: count(row, "cached_read_tokens")?,
        cache_write_tokens: count(row, "cache_write_tokens")?,
        total_tokens: count(row, "total_tokens")?,
        cost: row.try_get("cost")?,
        cost_estimated: flag(row, "cost_estimated")?,
        start_time_ms: row.try_get("start_time")?,
        end_time_ms: row.try_get("end_time")?,
        ttft_ms: row.try_get("ttft_ms")?,
        status: parsed(row, "status")?,
        error_type: row.try_get("error_type")?,
        http_status: u16::try_from(row.try_get::<i64, _>("http_status")?).unwrap_or(0),
        cache_hit: flag(row, "cache_hit")?,
    })
}

/// A non-negative BIGINT.
pub(super) fn count(row: &AnyRow, column: &str) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
}

/// A BOOLEAN: PostgreSQL returns one, SQLite an integer 0 or 1.
fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    row.try_get::<bool, _>(column)
        .or_else(|_| row.try_get::<i64, _>(column).map(|v| v != 0))
}

fn parsed<T: std::str::FromStr<Err = String>>(
    row: &AnyRow,
    column: &str,
) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e: String| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: e.into(),
    })
}
