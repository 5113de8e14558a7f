//! `/budget/*`: named limits (LiteLLM's budget table) that end users share
//! through their `budget_id`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::Value;

use super::access::{self, Need};
use super::fields::{Fields, take};
use super::{db, not_found, views};
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::store::accounts::budgets::{self, BudgetRow};
use crate::store::accounts::{is_unique_violation, now};

pub async fn new(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/budget/new")?;
    let f = Fields::parse(&body)?;
    let now = now();
    let mut b = BudgetRow {
        budget_id: match f.string("budget_id")? {
            Some(id) if !id.trim().is_empty() => id,
            Some(_) => return Err(ApiError::param("budget_id", "budget_id must not be empty.")),
            None => uuid::Uuid::new_v4().to_string(),
        },
        created_at: now,
        updated_at: now,
        ..BudgetRow::default()
    };
    apply(&f, &mut b, now)?;
    budgets::insert(&gw.store.pool, &b).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::param(
                "budget_id",
                format!("Budget {:?} exists already.", b.budget_id),
            )
        } else {
            db(e)
        }
    })?;
    gw.accounts.put_budget(b.clone());
    Ok(Json(views::budget(&b)))
}

pub async fn update(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/budget/update")?;
    let f = Fields::parse(&body)?;
    let id = f.required_string("budget_id")?;
    let mut b = existing(&gw, &id, "budget_id").await?;
    let now = now();
    apply(&f, &mut b, now)?;
    b.updated_at = now;
    budgets::update(&gw.store.pool, &b).await.map_err(db)?;
    gw.accounts.put_budget(b.clone());
    Ok(Json(views::budget(&b)))
}

/// `{"id": "…"}` (LiteLLM's field); a budget end users still name is a
/// 400: move them to another first.
pub async fn delete(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/budget/delete")?;
    let f = Fields::parse(&body)?;
    let id = f.required_string("id")?;
    let b = existing(&gw, &id, "id").await?;
    let users = budgets::users_of(&gw.store.pool, &id).await.map_err(db)?;
    if users > 0 {
        return Err(ApiError::param(
            "id",
            format!("Budget {id:?} is used by {users} customer(s); change their budget_id first."),
        ));
    }
    budgets::delete(&gw.store.pool, &id, now())
        .await
        .map_err(db)?;
    gw.accounts.remove_budget(&id);
    Ok(Json(views::budget(&b)))
}

/// `POST /budget/info` with `{"budgets": [ids]}`, as LiteLLM takes it.
pub async fn info(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::View, "/budget/info")?;
    let f = Fields::parse(&body)?;
    let ids = f
        .ids("budgets")?
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| ApiError::param("budgets", "budgets (a list of budget ids) is required."))?;
    let mut shown = Vec::with_capacity(ids.len());
    for id in &ids {
        shown.push(views::budget(&existing(&gw, id, "budgets").await?));
    }
    Ok(Json(Value::Array(shown)))
}

pub async fn list(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::View, "/budget/list")?;
    let rows = budgets::all(&gw.store.pool).await.map_err(db)?;
    Ok(Json(Value::Array(rows.iter().map(views::budget).collect())))
}

async fn existing(gw: &Gateway, id: &str, param: &str) -> Result<BudgetRow, ApiError> {
    budgets::get(&gw.store.pool, id)
        .await
        .map_err(db)?
        .ok_or_else(|| not_found(param, format!("Budget {id:?} does not exist.")))
}

/// Applies the settings a request sends to a budget.
fn apply(f: &Fields, b: &mut BudgetRow, now: i64) -> Result<(), ApiError> {
    take!(f, b, max_budget, money);
    take!(f, b, soft_budget, money);
    take!(f, b, max_parallel_requests, count);
    take!(f, b, tpm_limit, count);
    take!(f, b, rpm_limit, count);
    take!(f, b, model_max_budget, object);
    if let Some(period) = f.budget_duration(now)? {
        b.budget_duration = period.duration;
        b.budget_reset_at = period.reset_at;
    }
    Ok(())
}
