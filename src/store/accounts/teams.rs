//! `sy_teams` and `sy_team_members`: a team's limits and budget, shared by
//! the keys that name it, and which users belong to it in which role.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::deletions::{self, Kind};
use super::keys::{self, Owner};
use super::{JsonObject, count_col, count_param, flag, json_col, to_json};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TeamRow {
    pub team_id: String,
    pub team_alias: Option<String>,
    /// Model groups the team's keys may call; empty means all.
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
    pub tags: Vec<String>,
    pub blocked: bool,
    pub data_class: Option<String>,
    pub guardrails: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One member of a team: LiteLLM's `{"user_id", "role": "admin" | "user"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub team_id: String,
    pub user_id: String,
    pub role: String,
}

macro_rules! columns {
    () => {
        "team_id, team_alias, models, max_budget, soft_budget, budget_duration, \
         budget_reset_at, spend, tpm_limit, rpm_limit, max_parallel_requests, metadata, tags, \
         blocked, data_class, guardrails, created_at, updated_at"
    };
}

impl TeamRow {
    fn from_row(row: &AnyRow) -> Result<TeamRow, sqlx::Error> {
        Ok(TeamRow {
            team_id: row.try_get("team_id")?,
            team_alias: row.try_get("team_alias")?,
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
            tags: json_col(row, "tags")?,
            blocked: flag(row, "blocked")?,
            data_class: row.try_get("data_class")?,
            guardrails: json_col(row, "guardrails")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

fn rows(rows: Vec<AnyRow>) -> Result<Vec<TeamRow>, sqlx::Error> {
    rows.iter().map(TeamRow::from_row).collect()
}

pub async fn insert(pool: &AnyPool, t: &TeamRow) -> Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "INSERT INTO sy_teams (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    ))
    .bind(&t.team_id)
    .bind(&t.team_alias)
    .bind(to_json(&t.models))
    .bind(t.max_budget)
    .bind(t.soft_budget)
    .bind(&t.budget_duration)
    .bind(t.budget_reset_at)
    .bind(t.spend)
    .bind(count_param(t.tpm_limit))
    .bind(count_param(t.rpm_limit))
    .bind(count_param(t.max_parallel_requests))
    .bind(to_json(&t.metadata))
    .bind(to_json(&t.tags))
    .bind(t.blocked)
    .bind(&t.data_class)
    .bind(to_json(&t.guardrails))
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes every setting; `spend` and `budget_reset_at` are left alone (see
/// `keys::update`).
pub async fn update(pool: &AnyPool, t: &TeamRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sy_teams SET team_alias = $2, models = $3, max_budget = $4, soft_budget = $5, \
         budget_duration = $6, tpm_limit = $7, rpm_limit = $8, max_parallel_requests = $9, \
         metadata = $10, tags = $11, blocked = $12, data_class = $13, guardrails = $14, \
         updated_at = $15 WHERE team_id = $1",
    )
    .bind(&t.team_id)
    .bind(&t.team_alias)
    .bind(to_json(&t.models))
    .bind(t.max_budget)
    .bind(t.soft_budget)
    .bind(&t.budget_duration)
    .bind(count_param(t.tpm_limit))
    .bind(count_param(t.rpm_limit))
    .bind(count_param(t.max_parallel_requests))
    .bind(to_json(&t.metadata))
    .bind(to_json(&t.tags))
    .bind(t.blocked)
    .bind(&t.data_class)
    .bind(to_json(&t.guardrails))
    .bind(t.updated_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_budget_reset_at(
    pool: &AnyPool,
    team_id: &str,
    at: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sy_teams SET budget_reset_at = $2, updated_at = $3 WHERE team_id = $1")
        .bind(team_id)
        .bind(at)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_blocked(
    pool: &AnyPool,
    team_id: &str,
    blocked: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE sy_teams SET blocked = $2, updated_at = $3 WHERE team_id = $1")
        .bind(team_id)
        .bind(blocked)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn get(pool: &AnyPool, team_id: &str) -> Result<Option<TeamRow>, sqlx::Error> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM sy_teams WHERE team_id = $1"
    ))
    .bind(team_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(TeamRow::from_row).transpose()
}

/// Every team, oldest first.
pub async fn all(pool: &AnyPool) -> Result<Vec<TeamRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sy_teams ORDER BY created_at, team_id"
        ))
        .fetch_all(pool)
        .await?,
    )
}

pub async fn changed_since(pool: &AnyPool, since: i64) -> Result<Vec<TeamRow>, sqlx::Error> {
    rows(
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sy_teams WHERE updated_at >= $1"
        ))
        .bind(since)
        .fetch_all(pool)
        .await?,
    )
}

/// Deletes teams with their members and their keys (as LiteLLM does);
/// returns the team ids that existed and the hashes of the keys deleted.
pub async fn delete(
    pool: &AnyPool,
    team_ids: &[String],
    now: i64,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (mut teams, mut keys) = (Vec::new(), Vec::new());
    for id in team_ids {
        let done = sqlx::query("DELETE FROM sy_teams WHERE team_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            continue;
        }
        sqlx::query("DELETE FROM sy_team_members WHERE team_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        keys.extend(keys::delete_owned_by(&mut tx, Owner::Team, id, now).await?);
        deletions::record(&mut tx, Kind::Team, id, now).await?;
        teams.push(id.clone());
    }
    tx.commit().await?;
    Ok((teams, keys))
}

pub async fn members(pool: &AnyPool, team_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    member_rows(
        sqlx::query(
            "SELECT team_id, user_id, role FROM sy_team_members WHERE team_id = $1 ORDER BY user_id",
        )
        .bind(team_id)
        .fetch_all(pool)
        .await?,
    )
}

/// The teams a user belongs to, with the role in each.
pub async fn memberships_of(pool: &AnyPool, user_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    member_rows(
        sqlx::query(
            "SELECT team_id, user_id, role FROM sy_team_members WHERE user_id = $1 ORDER BY team_id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?,
    )
}

fn member_rows(rows: Vec<AnyRow>) -> Result<Vec<Member>, sqlx::Error> {
    rows.iter()
        .map(|r| {
            Ok(Member {
                team_id: r.try_get("team_id")?,
                user_id: r.try_get("user_id")?,
                role: r.try_get("role")?,
            })
        })
        .collect()
}

/// Adds members (or changes their role) and marks the team as changed.
pub async fn put_members(
    pool: &AnyPool,
    team_id: &str,
    members: &[(String, String)],
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (user_id, role) in members {
        sqlx::query(
            "INSERT INTO sy_team_members (team_id, user_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(role)
        .execute(&mut *tx)
        .await?;
    }
    touch(&mut tx, team_id, now).await?;
    tx.commit().await
}

/// Removes members; returns how many there were.
pub async fn remove_members(
    pool: &AnyPool,
    team_id: &str,
    user_ids: &[String],
    now: i64,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut removed = 0;
    for user_id in user_ids {
        removed += sqlx::query("DELETE FROM sy_team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    touch(&mut tx, team_id, now).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Removes a user from every team (the user is being deleted).
pub(super) async fn remove_user_everywhere(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sy_team_members WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn touch(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sy_teams SET updated_at = $2 WHERE team_id = $1")
        .bind(team_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
