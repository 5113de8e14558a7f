//! `sy_end_users`: the customers of the apps that call the gateway, named
//! by the `user` field of a request (LiteLLM's "customers").

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::deletions::{self, Kind};
use super::{JsonObject, count_col, count_param, flag, json_col, to_json};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EndUserRow {
    pub end_user_id: String,
    pub alias: Option<String>,
    pub blocked: bool,
    /// A row of `sy_budgets` whose limits apply to this end user.
    pub budget_id: Option<String>,
    pub max_budget: Option<f64>,
    pub spend: f64,
    pub tpm_limit: Option<u64>,
    pub rpm_limit: Option<u64>,
    /// `eu` or `us`, as LiteLLM takes it; stored, not enforced yet.
    pub allowed_model_region: Option<String>,
    pub default_model: Option<String>,
    pub metadata: JsonObject,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! columns {
    () => {
        "end_user_id, alias, blocked, budget_id, max_budget, spend, tpm_limit, rpm_limit, \
         allowed_model_region, default_model, metadata, created_at, updated_at"
    };
}

impl EndUserRow {
    fn from_row(row: &AnyRow) -> Result<EndUserRow, sqlx::Error> {
        Ok(EndUserRow {
            end_user_id: row.try_get("end_user_id")?,
            alias: row.try_get("alias")?,
            blocked: flag(row, "blocked")?,
            budget_id: row.try_get("budget_id")?,
            max_budget: row.try_get("max_budget")?,
            spend: row.try_get("spend")?,
            tpm_limit: count_col(row, "tpm_limit")?,
            rpm_limit: count_col(row, "rpm_limit")?,
            allowed_model_region: row.try_get("allowed_model_region")?,
            default_model: row.try_get("default_model")?,
            metadata: json_col(row, "metadata")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

fn rows(rows: Vec<AnyRow>) -> Result<Vec<EndUserRow>, sqlx::Error> {
    rows.iter().map(EndUserRow::from_row).collect()
}

pub async fn insert(pool: &AnyPool, e: &EndUserRow) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO sy_end_users (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&e.end_user_id)
    .bind(&e.alias)
    .bind(e.blocked)
    .bind(&e.budget_id)
    .bind(e.max_budget)
    .bind(e.spend)
    .bind(count_param(e.tpm_limit))
    .bind(count_param(e.rpm_limit))
    .bind(&e.allowed_model_region)
    .bind(&e.default_model)
    .bind(to_json(&e.metadata))
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes every setting; `spend` is left to the spend writer.
pub async fn update(pool: &AnyPool, e: &EndUserRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sy_end_users SET alias = $2, blocked = $3, budget_id = $4, max_budget = $5, \
         tpm_limit = $6, rpm_limit = $7, allowed_model_region = $8, default_model = $9, \
         metadata = $10, updated_at = $11 WHERE end_user_id = $1",
    )
    .bind(&e.end_user_id)
    .bind(&e.alias)
    .bind(e.blocked)
    .bind(&e.budget_id)
    .bind(e.max_budget)
    .bind(count_param(e.tpm_limit))
    .bind(count_param(e.rpm_limit))
    .bind(&e.allowed_model_region)
    .bind(&e.default_model)
    .bind(to_json(&e.metadata))
    .bind(e.updated_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<EndUserRow>, sqlx::Error> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM sy_end_users WHERE end_user_id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(EndUserRow::from_row).transpose()
}

/// Every end user, oldest first.
pub async fn all(pool: &AnyPool) -> Result<Vec<EndUserRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sy_end_users ORDER BY created_at, end_user_id"
        ))
        .fetch_all(pool)
        .await?,
    )
}

pub async fn changed_since(pool: &AnyPool, since: i64) -> Result<Vec<EndUserRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sy_end_users WHERE updated_at >= $1"
        ))
        .bind(since)
        .fetch_all(pool)
        .await?,
    )
}

/// Deletes end users; returns the ids that existed.
pub async fn delete(pool: &AnyPool, ids: &[String], now: i64) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut deleted = Vec::new();
    for id in ids {
        let done = sqlx::query("DELETE FROM sy_end_users WHERE end_user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            deletions::record(&mut tx, Kind::EndUser, id, now).await?;
            deleted.push(id.clone());
        }
    }
    tx.commit().await?;
    Ok(deleted)
}
