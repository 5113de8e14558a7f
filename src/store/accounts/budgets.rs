//! `sy_budgets`: named, reusable limits (LiteLLM's budget table), applied
//! to end users through their `budget_id`.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::deletions::{self, Kind};
use super::{JsonObject, count_col, count_param, json_col_opt, to_json_opt};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BudgetRow {
    pub budget_id: String,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub max_parallel_requests: Option<u64>,
    pub tpm_limit: Option<u64>,
    pub rpm_limit: Option<u64>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<i64>,
    pub model_max_budget: Option<JsonObject>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! columns {
    () => {
        "budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, \
         budget_duration, budget_reset_at, model_max_budget, created_at, updated_at"
    };
}

impl BudgetRow {
    fn from_row(row: &AnyRow) -> Result<BudgetRow, sqlx::Error> {
        Ok(BudgetRow {
            budget_id: row.try_get("budget_id")?,
            max_budget: row.try_get("max_budget")?,
            soft_budget: row.try_get("soft_budget")?,
            max_parallel_requests: count_col(row, "max_parallel_requests")?,
            tpm_limit: count_col(row, "tpm_limit")?,
            rpm_limit: count_col(row, "rpm_limit")?,
            budget_duration: row.try_get("budget_duration")?,
            budget_reset_at: row.try_get("budget_reset_at")?,
            model_max_budget: json_col_opt(row, "model_max_budget")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

fn rows(rows: Vec<AnyRow>) -> Result<Vec<BudgetRow>, sqlx::Error> {
    rows.iter().map(BudgetRow::from_row).collect()
}

pub async fn insert(pool: &AnyPool, b: &BudgetRow) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO sy_budgets (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&b.budget_id)
    .bind(b.max_budget)
    .bind(b.soft_budget)
    .bind(count_param(b.max_parallel_requests))
    .bind(count_param(b.tpm_limit))
    .bind(count_param(b.rpm_limit))
    .bind(&b.budget_duration)
    .bind(b.budget_reset_at)
    .bind(to_json_opt(&b.model_max_budget))
    .bind(b.created_at)
    .bind(b.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes every setting, `budget_reset_at` included: a budget row has no
/// spend of its own, so nothing else writes it concurrently.
pub async fn update(pool: &AnyPool, b: &BudgetRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sy_budgets SET max_budget = $2, soft_budget = $3, max_parallel_requests = $4, \
         tpm_limit = $5, rpm_limit = $6, budget_duration = $7, budget_reset_at = $8, \
         model_max_budget = $9, updated_at = $10 WHERE budget_id = $1",
    )
    .bind(&b.budget_id)
    .bind(b.max_budget)
    .bind(b.soft_budget)
    .bind(count_param(b.max_parallel_requests))
    .bind(count_param(b.tpm_limit))
    .bind(count_param(b.rpm_limit))
    .bind(&b.budget_duration)
    .bind(b.budget_reset_at)
    .bind(to_json_opt(&b.model_max_budget))
    .bind(b.updated_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<BudgetRow>, sqlx::Error> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM sy_budgets WHERE budget_id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(BudgetRow::from_row).transpose()
}

pub async fn all(pool: &AnyPool) -> Result<Vec<BudgetRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sy_budgets ORDER BY created_at, budget_id"
        ))
        .fetch_all(pool)
        .await?,
    )
}

pub async fn changed_since(pool: &AnyPool, since: i64) -> Result<Vec<BudgetRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sy_budgets WHERE updated_at >= $1"
        ))
        .bind(since)
        .fetch_all(pool)
        .await?,
    )
}

/// Deletes a budget (the caller has checked that no end user names it);
/// returns whether it existed.
pub async fn delete(pool: &AnyPool, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("DELETE FROM sy_budgets WHERE budget_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let existed = done.rows_affected() > 0;
    if existed {
        deletions::record(&mut tx, Kind::Budget, id, now).await?;
    }
    tx.commit().await?;
    Ok(existed)
}

/// How many end users name this budget (a budget in use is not deleted).
pub async fn users_of(pool: &AnyPool, id: &str) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sy_end_users WHERE budget_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?
        .try_get("n")?;
    Ok(n.max(0) as u64)
}
