//! `sy_users`: the people (or services) keys belong to, each with a role
//! that decides what their keys may do on the management API.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::deletions::{self, Kind};
use super::keys::{self, Owner};
use super::teams;
use super::{JsonObject, count_col, count_param, json_col, to_json};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserRow {
    pub user_id: String,
    pub user_email: Option<String>,
    /// `proxy_admin`, `proxy_admin_viewer`, `internal_user` or
    /// `internal_user_viewer` (see `crate::accounts::UserRole`).
    pub user_role: String,
    /// Model groups the user's keys may call; empty means all.
    pub models: Vec<String>,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<i64>,
    pub spend: f64,
    pub tpm_limit: Option<u64>,
    pub rpm_limit: Option<u64>,
    pub max_parallel_requests: Option<u64>,
    pub metadata: JsonObject,
    pub data_class: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! columns {
    () => {
        "user_id, user_email, user_role, models, max_budget, soft_budget, budget_duration, \
         budget_reset_at, spend, tpm_limit, rpm_limit, max_parallel_requests, metadata, \
         data_class, created_at, updated_at"
    };
}

impl UserRow {
    fn from_row(row: &AnyRow) -> Result<UserRow, sqlx::Error> {
        Ok(UserRow {
            user_id: row.try_get("user_id")?,
            user_email: row.try_get("user_email")?,
            user_role: row.try_get("user_role")?,
            models: json_col(row, "models")?,
            max_budget: row.try_get("max_budget")?,
            soft_budget: row.try_get("soft_budget")?,
            budget_duration: row.try_get("budget_duration")?,
            budget_reset_at: row.try_get("budget_reset_at")?,
            spend: row.try_get("spend")?,
            tpm_limit: count_col(row, "tpm_limit")?,
            rpm_limit: count_col(row, "rpm_limit")?,
            max_parallel_requests: count_col(row, "max_parallel_requests")?,
            metadata: json_col(row, "metadata")?,
            data_class: row.try_get("data_class")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

fn rows(rows: Vec<AnyRow>) -> Result<Vec<UserRow>, sqlx::Error> {
    rows.iter().map(UserRow::from_row).collect()
}

pub async fn insert(pool: &AnyPool, u: &UserRow) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO sy_users (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
    .bind(&u.user_id)
    .bind(&u.user_email)
    .bind(&u.user_role)
    .bind(to_json(&u.models))
    .bind(u.max_budget)
    .bind(u.soft_budget)
    .bind(&u.budget_duration)
    .bind(u.budget_reset_at)
    .bind(u.spend)
    .bind(count_param(u.tpm_limit))
    .bind(count_param(u.rpm_limit))
    .bind(count_param(u.max_parallel_requests))
    .bind(to_json(&u.metadata))
    .bind(&u.data_class)
    .bind(u.created_at)
    .bind(u.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes every setting; `spend` and `budget_reset_at` are left alone (see
/// `keys::update`).
pub async fn update(pool: &AnyPool, u: &UserRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sy_users SET user_email = $2, user_role = $3, models = $4, max_budget = $5, \
         soft_budget = $6, budget_duration = $7, tpm_limit = $8, rpm_limit = $9, \
         max_parallel_requests = $10, metadata = $11, data_class = $12, updated_at = $13 \
         WHERE user_id = $1",
    )
    .bind(&u.user_id)
    .bind(&u.user_email)
    .bind(&u.user_role)
    .bind(to_json(&u.models))
    .bind(u.max_budget)
    .bind(u.soft_budget)
    .bind(&u.budget_duration)
    .bind(count_param(u.tpm_limit))
    .bind(count_param(u.rpm_limit))
    .bind(count_param(u.max_parallel_requests))
    .bind(to_json(&u.metadata))
    .bind(&u.data_class)
    .bind(u.updated_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_budget_reset_at(
    pool: &AnyPool,
    user_id: &str,
    at: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sy_users SET budget_reset_at = $2, updated_at = $3 WHERE user_id = $1")
        .bind(user_id)
        .bind(at)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn get(pool: &AnyPool, user_id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM sy_users WHERE user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(UserRow::from_row).transpose()
}

pub async fn get_by_email(pool: &AnyPool, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM sy_users WHERE user_email = $1 ORDER BY created_at LIMIT 1"
    ))
    .bind(email)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(UserRow::from_row).transpose()
}

/// One page of users (oldest first), optionally of one role, and the total.
pub async fn list(
    pool: &AnyPool,
    role: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<UserRow>, u64), sqlx::Error> {
    let (limit, offset) = (count_param(Some(limit)), count_param(Some(offset)));
    let (count, page) = match role {
        None => (
            sqlx::query("SELECT COUNT(*) AS n FROM sy_users"),
            sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM sy_users ORDER BY created_at, user_id LIMIT $1 OFFSET $2"
            ))
            .bind(limit)
            .bind(offset),
        ),
        Some(role) => (
            sqlx::query("SELECT COUNT(*) AS n FROM sy_users WHERE user_role = $1").bind(role),
            sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM sy_users WHERE user_role = $1 ORDER BY created_at, user_id \
                 LIMIT $2 OFFSET $3"
            ))
            .bind(role)
            .bind(limit)
            .bind(offset),
        ),
    };
    let total: i64 = count.fetch_one(pool).await?.try_get("n")?;
    Ok((rows(page.fetch_all(pool).await?)?, total.max(0) as u64))
}

pub async fn all(pool: &AnyPool) -> Result<Vec<UserRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!("SELECT ", columns!(), " FROM sy_users"))
            .fetch_all(pool)
            .await?,
    )
}

pub async fn changed_since(pool: &AnyPool, since: i64) -> Result<Vec<UserRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sy_users WHERE updated_at >= $1"
        ))
        .bind(since)
        .fetch_all(pool)
        .await?,
    )
}

/// Deletes users with their keys and team memberships (as LiteLLM does);
/// returns the user ids that existed and the hashes of the keys deleted.
pub async fn delete(
    pool: &AnyPool,
    user_ids: &[String],
    now: i64,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (mut users, mut keys) = (Vec::new(), Vec::new());
    for id in user_ids {
        let done = sqlx::query("DELETE FROM sy_users WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            continue;
        }
        teams::remove_user_everywhere(&mut tx, id).await?;
        keys.extend(keys::delete_owned_by(&mut tx, Owner::User, id, now).await?);
        deletions::record(&mut tx, Kind::User, id, now).await?;
        users.push(id.clone());
    }
    tx.commit().await?;
    Ok((users, keys))
}
