//! Reading and writing `sy_audit` rows. Appending happens in one
//! transaction per batch that first takes the table's write lock and reads
//! the head, so that several gateway processes on one PostgreSQL database
//! extend one chain in turn (see docs/audit.md); on SQLite the transaction
//! starts IMMEDIATE, which takes the database's single write lock first.
//! Should two appenders ever read the same head anyway, the second INSERT
//! fails on the primary key (seq) and the writer retries from the new head.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::chain::{self, Head};
use super::record::AuditRecord;
use crate::store::{Backend, Store};

const COLUMNS: &str = "seq, time_ms, kind, request_id, key_hash, user_id, team_id, caller_addr,
    data_class, data_class_reason, guardrails, model_group, attempts, prompt_tokens,
    completion_tokens, cost, prompt_hmac, response_hmac, prompt_plaintext,
    response_plaintext, prev_hash, hash";
const BINDS: usize = 22;

/// Rows per INSERT: 50 × 22 values, well inside both databases' limits.
const ROWS_PER_STATEMENT: usize = 50;

/// Chains `records` (in order) onto the stored head and appends them, all
/// or nothing; returns the new head. On failure the records are left to be
/// re-chained by the next attempt.
pub async fn append(store: &Store, records: &mut [AuditRecord]) -> Result<Head, sqlx::Error> {
    let mut tx = match store.backend {
        // The write lock before the head is read: a second process waits
        // (busy_timeout) instead of chaining onto a head that moves.
        Backend::Sqlite => store.pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => store.pool.begin().await?,
    };
    if store.backend == Backend::Postgres {
        // Conflicts with itself, not with readers: one appender at a time
        // across every process, while verify and export keep reading.
        sqlx::query("LOCK TABLE sy_audit IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    let head = head(&mut tx).await?;
    let head = chain::seal(&head, records);
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO sy_audit ({COLUMNS}) VALUES {}",
            placeholders(store.backend, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            query = bind(query, r);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(head)
}

async fn head(tx: &mut Transaction<'static, Any>) -> Result<Head, sqlx::Error> {
    let row = sqlx::query("SELECT seq, hash FROM sy_audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(row) => Head {
            seq: row.try_get(0)?,
            hash: row.try_get(1)?,
        },
        None => Head::genesis(),
    })
}

/// Every record, by sequence number.
pub async fn all(store: &Store) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM sy_audit ORDER BY seq");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(decode).collect()
}

/// The records with `start_ms <= time_ms < end_ms`, by sequence number.
pub async fn between(
    store: &Store,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM sy_audit WHERE time_ms >= $1 AND time_ms < $2 ORDER BY seq");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(start_ms)
        .bind(end_ms)
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(decode).collect()
}

fn decode(row: &AnyRow) -> Result<AuditRecord, sqlx::Error> {
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        time_ms: row.try_get("time_ms")?,
        kind: row.try_get("kind")?,
        request_id: row.try_get("request_id")?,
        key_hash: row.try_get("key_hash")?,
        user_id: row.try_get("user_id")?,
        team_id: row.try_get("team_id")?,
        caller_addr: row.try_get("caller_addr")?,
        data_class: row.try_get("data_class")?,
        data_class_reason: row.try_get("data_class_reason")?,
        guardrails: row.try_get("guardrails")?,
        model_group: row.try_get("model_group")?,
        attempts: row.try_get("attempts")?,
        prompt_tokens: row.try_get("prompt_tokens")?,
        completion_tokens: row.try_get("completion_tokens")?,
        cost: row.try_get("cost")?,
        prompt_hmac: row.try_get("prompt_hmac")?,
        response_hmac: row.try_get("response_hmac")?,
        prompt_plaintext: row.try_get("prompt_plaintext")?,
        response_plaintext: row.try_get("response_plaintext")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// The values of one row, in `COLUMNS` order.
fn bind<'q>(query: Query<'q, Any, AnyArguments>, r: &AuditRecord) -> Query<'q, Any, AnyArguments> {
    query
        .bind(r.seq)
        .bind(r.time_ms)
        .bind(r.kind.clone())
        .bind(r.request_id.clone())
        .bind(r.key_hash.clone())
        .bind(r.user_id.clone())
        .bind(r.team_id.clone())
        .bind(r.caller_addr.clone())
        .bind(r.data_class.clone())
        .bind(r.data_class_reason.clone())
        .bind(r.guardrails.clone())
        .bind(r.model_group.clone())
        .bind(r.attempts.clone())
        .bind(r.prompt_tokens)
        .bind(r.completion_tokens)
        .bind(r.cost)
        .bind(r.prompt_hmac.clone())
        .bind(r.response_hmac.clone())
        .bind(r.prompt_plaintext.clone())
        .bind(r.response_plaintext.clone())
        .bind(r.prev_hash.clone())
        .bind(r.hash.clone())
}

/// `(?, …), …` for SQLite (anonymous: sqlx looks numbered ones up
/// linearly), `($1, …), …` for PostgreSQL. Placeholders only, never values.
fn placeholders(backend: Backend, rows: usize) -> String {
    let mut sql = String::with_capacity(rows * BINDS * 5);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..BINDS {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", row * BINDS + col + 1)),
            }
        }
        sql.push(')');
    }
    sql
}
