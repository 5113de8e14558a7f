//! `sy_keys`: virtual keys, found by the SHA-256 of their plaintext (the
//! plaintext itself is never stored).

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::deletions::{self, Kind};
use super::{
    JsonObject, ModelLimits, count_col, count_param, flag, json_col, json_col_opt, to_json,
    to_json_opt,
};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyRow {
    /// Hex SHA-256 of the plaintext key.
    pub token_hash: String,
    /// The masked plaintext, `sk-...abcd`, to tell keys apart in lists.
    pub key_name: String,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// Model groups the key may call; empty means all.
    pub models: Vec<String>,
    /// `{"requested model": "model group"}` for this key.
    pub aliases: JsonObject,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    /// `30s`, `5m`, `1h`, `7d`, `1mo`: how often the budget starts again.
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<i64>,
    pub spend: f64,
    pub tpm_limit: Option<u64>,
    pub rpm_limit: Option<u64>,
    pub max_parallel_requests: Option<u64>,
    pub model_rpm_limit: Option<ModelLimits>,
    pub model_tpm_limit: Option<ModelLimits>,
    /// LiteLLM's `{"model": {"budget_limit": 1.0, "time_period": "1d"}}`, as sent.
    pub model_max_budget: Option<JsonObject>,
    pub metadata: JsonObject,
    pub tags: Vec<String>,
    pub allowed_routes: Vec<String>,
    pub blocked: bool,
    pub expires_at: Option<i64>,
    pub data_class: Option<String>,
    pub guardrails: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which keys a list shows.
#[derive(Clone, Debug, Default)]
pub struct KeyFilter {
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub key_alias: Option<String>,
}

macro_rules! columns {
    () => {
        "token_hash, key_name, key_alias, user_id, team_id, models, aliases, max_budget, \
         soft_budget, budget_duration, budget_reset_at, spend, tpm_limit, rpm_limit, \
         max_parallel_requests, model_rpm_limit, model_tpm_limit, model_max_budget, metadata, \
         tags, allowed_routes, blocked, expires_at, data_class, guardrails, created_at, updated_at"
    };
}

impl KeyRow {
    fn from_row(row: &AnyRow) -> Result<KeyRow, sqlx::Error> {
        Ok(KeyRow {
            token_hash: row.try_get("token_hash")?,
            key_name: row.try_get("key_name")?,
            key_alias: row.try_get("key_alias")?,
            user_id: row.try_get("user_id")?,
            team_id: row.try_get("team_id")?,
            models: json_col(row, "models")?,
            aliases: json_col(row, "aliases")?,
            max_budget: row.try_get("max_budget")?,
            soft_budget: row.try_get("soft_budget")?,
            budget_duration: row.try_get("budget_duration")?,
            budget_reset_at: row.try_get("budget_reset_at")?,
            spend: row.try_get("spend")?,
            tpm_limit: count_col(row, "tpm_limit")?,
            rpm_limit: count_col(row, "rpm_limit")?,
            max_parallel_requests: count_col(row, "max_parallel_requests")?,
            model_rpm_limit: json_col_opt(row, "model_rpm_limit")?,
            model_tpm_limit: json_col_opt(row, "model_tpm_limit")?,
            model_max_budget: json_col_opt(row, "model_max_budget")?,
            metadata: json_col(row, "metadata")?,
            tags: json_col(row, "tags")?,
            allowed_routes: json_col(row, "allowed_routes")?,
            blocked: flag(row, "blocked")?,
            expires_at: row.try_get("expires_at")?,
            data_class: row.try_get("data_class")?,
            guardrails: json_col(row, "guardrails")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

fn rows(rows: Vec<AnyRow>) -> Result<Vec<KeyRow>, sqlx::Error> {
    rows.iter().map(KeyRow::from_row).collect()
}

pub async fn insert(pool: &AnyPool, k: &KeyRow) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO sy_keys (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)"
    ))
    .bind(&k.token_hash)
    .bind(&k.key_name)
    .bind(&k.key_alias)
    .bind(&k.user_id)
    .bind(&k.team_id)
    .bind(to_json(&k.models))
    .bind(to_json(&k.aliases))
    .bind(k.max_budget)
    .bind(k.soft_budget)
    .bind(&k.budget_duration)
    .bind(k.budget_reset_at)
    .bind(k.spend)
    .bind(count_param(k.tpm_limit))
    .bind(count_param(k.rpm_limit))
    .bind(count_param(k.max_parallel_requests))
    .bind(to_json_opt(&k.model_rpm_limit))
    .bind(to_json_opt(&k.model_tpm_limit))
    .bind(to_json_opt(&k.model_max_budget))
    .bind(to_json(&k.metadata))
    .bind(to_json(&k.tags))
    .bind(to_json(&k.allowed_routes))
    .bind(k.blocked)
    .bind(k.expires_at)
    .bind(&k.data_class)
    .bind(to_json(&k.guardrails))
    .bind(k.created_at)
    .bind(k.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes every setting of the key. Leaves `spend` and `budget_reset_at`
/// alone: the spend writer and budget resets change those concurrently.
pub async fn update(pool: &AnyPool, k: &KeyRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sy_keys SET key_alias = $2, user_id = $3, team_id = $4, models = $5, \
         aliases = $6, max_budget = $7, soft_budget = $8, budget_duration = $9, tpm_limit = $10, \
         rpm_limit = $11, max_parallel_requests = $12, model_rpm_limit = $13, \
         model_tpm_limit = $14, model_max_budget = $15, metadata = $16, tags = $17, \
         allowed_routes = $18, blocked = $19, expires_at = $20, data_class = $21, \
         guardrails = $22, updated_at = $23 WHERE token_hash = $1",
    )
    .bind(&k.token_hash)
    .bind(&k.key_alias)
    .bind(&k.user_id)
    .bind(&k.team_id)
    .bind(to_json(&k.models))
    .bind(to_json(&k.aliases))
    .bind(k.max_budget)
    .bind(k.soft_budget)
    .bind(&k.budget_duration)
    .bind(count_param(k.tpm_limit))
    .bind(count_param(k.rpm_limit))
    .bind(count_param(k.max_parallel_requests))
    .bind(to_json_opt(&k.model_rpm_limit))
    .bind(to_json_opt(&k.model_tpm_limit))
    .bind(to_json_opt(&k.model_max_budget))
    .bind(to_json(&k.metadata))
    .bind(to_json(&k.tags))
    .bind(to_json(&k.allowed_routes))
    .bind(k.blocked)
    .bind(k.expires_at)
    .bind(&k.data_class)
    .bind(to_json(&k.guardrails))
    .bind(k.updated_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A new budget period starts at `at` (after `budget_duration` changed).
pub async fn set_budget_reset_at(
    pool: &AnyPool,
    token_hash: &str,
    at: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sy_keys SET budget_reset_at = $2, updated_at = $3 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(at)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_blocked(
    pool: &AnyPool,
    token_hash: &str,
    blocked: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE sy_keys SET blocked = $2, updated_at = $3 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(blocked)
            .bind(now)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Regeneration: the same key under a new secret. The old hash is recorded
/// as deleted so that other instances stop accepting it.
pub async fn replace_token(
    pool: &AnyPool,
    old_hash: &str,
    new_hash: &str,
    new_name: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE sy_keys SET token_hash = $2, key_name = $3, updated_at = $4 WHERE token_hash = $1",
    )
    .bind(old_hash)
    .bind(new_hash)
    .bind(new_name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    deletions::record(&mut tx, Kind::Key, old_hash, now).await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

pub async fn get(pool: &AnyPool, token_hash: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM sy_keys WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(KeyRow::from_row).transpose()
}

pub async fn get_by_alias(pool: &AnyPool, alias: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM sy_keys WHERE key_alias = $1"
    ))
    .bind(alias)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(KeyRow::from_row).transpose()
}

/// Deletes keys by hash; returns the hashes that existed.
pub async fn delete(
    pool: &AnyPool,
    hashes: &[String],
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut deleted = Vec::new();
    for hash in hashes {
        let done = sqlx::query("DELETE FROM sy_keys WHERE token_hash = $1")
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            deletions::record(&mut tx, Kind::Key, hash, now).await?;
            deleted.push(hash.clone());
        }
    }
    tx.commit().await?;
    Ok(deleted)
}

/// One page of keys (newest first) and how many match in all.
pub async fn list(
    pool: &AnyPool,
    filter: &KeyFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<KeyRow>, u64), sqlx::Error> {
    // Only placeholders are put into the text; every value is bound.
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    for (column, value) in [
        ("user_id", &filter.user_id),
        ("team_id", &filter.team_id),
        ("key_alias", &filter.key_alias),
    ] {
        if let Some(v) = value {
            values.push(v.clone());
            clauses.push(format!("{column} = ${}", values.len()));
        }
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let count_sql = format!("SELECT COUNT(*) AS n FROM sy_keys{filter_sql}");
    let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql));
    for v in &values {
        count = count.bind(v.clone());
    }
    let total: i64 = count.fetch_one(pool).await?.try_get("n")?;
    let page_sql = format!(
        "SELECT {} FROM sy_keys{filter_sql} ORDER BY created_at DESC, token_hash LIMIT ${} OFFSET ${}",
        columns!(),
        values.len() + 1,
        values.len() + 2
    );
    let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql));
    for v in &values {
        page = page.bind(v.clone());
    }
    let page = page
        .bind(count_param(Some(limit)))
        .bind(count_param(Some(offset)));
    Ok((rows(page.fetch_all(pool).await?)?, total.max(0) as u64))
}

/// Every key, for loading the registry.
pub async fn all(pool: &AnyPool) -> Result<Vec<KeyRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!("SELECT ", columns!(), " FROM sy_keys"))
            .fetch_all(pool)
            .await?,
    )
}

/// Keys written at or after `since`, for refreshing the registry.
pub async fn changed_since(pool: &AnyPool, since: i64) -> Result<Vec<KeyRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sy_keys WHERE updated_at >= $1"
        ))
        .bind(since)
        .fetch_all(pool)
        .await?,
    )
}

/// Deletes the keys of a team or of a user, in the caller's transaction;
/// returns their hashes.
pub(super) async fn delete_owned_by(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner: Owner,
    id: &str,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let select = match owner {
        Owner::Team => "SELECT token_hash FROM sy_keys WHERE team_id = $1",
        Owner::User => "SELECT token_hash FROM sy_keys WHERE user_id = $1",
    };
    let hashes: Vec<String> = sqlx::query(select)
        .bind(id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("token_hash"))
        .collect::<Result<_, _>>()?;
    for hash in &hashes {
        sqlx::query("DELETE FROM sy_keys WHERE token_hash = $1")
            .bind(hash)
            .execute(&mut **tx)
            .await?;
        deletions::record(tx, Kind::Key, hash, now).await?;
    }
    Ok(hashes)
}

/// Whose keys go with them when deleted.
#[derive(Clone, Copy, Debug)]
pub(super) enum Owner {
    Team,
    User,
}
