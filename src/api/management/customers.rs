//! `/customer/*`: end users, named by the `user` field of a request
//! (LiteLLM's customers), with their own limits or a shared budget row
//! (`budget_id`). A blocked end user's requests are refused.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Value, json};

use super::access::{self, Need};
use super::fields::{Fields, take};
use super::{db, lookups, not_found, views};
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::store::accounts::end_users::{self, EndUserRow};
use crate::store::accounts::{budgets, is_unique_violation, now};

const REGIONS: [&str; 2] = ["eu", "us"];

pub async fn new(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/customer/new")?;
    let f = Fields::parse(&body)?;
    let now = now();
    let mut e = EndUserRow {
        end_user_id: f.required_string("user_id")?,
        created_at: now,
        updated_at: now,
        ..EndUserRow::default()
    };
    apply(&gw, &f, &mut e).await?;
    end_users::insert(&gw.store.pool, &e).await.map_err(|err| {
        if is_unique_violation(&err) {
            ApiError::param(
                "user_id",
                format!("Customer {:?} exists already.", e.end_user_id),
            )
        } else {
            db(err)
        }
    })?;
    Ok(Json(stored(&gw, &e.end_user_id).await?))
}

pub async fn update(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/customer/update")?;
    let f = Fields::parse(&body)?;
    let id = f.required_string("user_id")?;
    let mut e = existing(&gw, &id).await?;
    apply(&gw, &f, &mut e).await?;
    e.updated_at = now();
    end_users::update(&gw.store.pool, &e).await.map_err(db)?;
    Ok(Json(stored(&gw, &id).await?))
}

/// `{"user_ids": [...]}`; one unknown end user is a 404 and nothing is
/// deleted.
pub async fn delete(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/customer/delete")?;
    let ids = user_ids(&Fields::parse(&body)?)?;
    for id in &ids {
        existing(&gw, id).await?;
    }
    let deleted = end_users::delete(&gw.store.pool, &ids, now())
        .await
        .map_err(db)?;
    for id in &deleted {
        gw.accounts.remove_end_user(id);
    }
    Ok(Json(json!({
        "deleted_customers": deleted.len(),
        "message": format!("Deleted customers {deleted:?}."),
    })))
}

/// `{"user_ids": [...]}`: end users not seen before are created blocked
/// (as LiteLLM does), so that a known abuser can be refused up front.
pub async fn block(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/customer/block")?;
    let ids = user_ids(&Fields::parse(&body)?)?;
    let now = now();
    let mut shown = Vec::new();
    for id in &ids {
        let pool = &gw.store.pool;
        match end_users::get(pool, id).await.map_err(db)? {
            Some(mut e) => {
                e.blocked = true;
                e.updated_at = now;
                end_users::update(pool, &e).await.map_err(db)?;
            }
            None => {
                let e = EndUserRow {
                    end_user_id: id.clone(),
                    blocked: true,
                    created_at: now,
                    updated_at: now,
                    ..EndUserRow::default()
                };
                end_users::insert(pool, &e).await.map_err(db)?;
            }
        }
        shown.push(stored(&gw, id).await?);
    }
    Ok(Json(json!({"blocked_users": shown})))
}

/// `{"user_ids": [...]}`; unknown end users are a 404.
pub async fn unblock(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/customer/unblock")?;
    let ids = user_ids(&Fields::parse(&body)?)?;
    let mut found = Vec::new();
    for id in &ids {
        found.push(existing(&gw, id).await?);
    }
    let now = now();
    let mut shown = Vec::new();
    for mut e in found {
        e.blocked = false;
        e.updated_at = now;
        end_users::update(&gw.store.pool, &e).await.map_err(db)?;
        shown.push(stored(&gw, &e.end_user_id).await?);
    }
    Ok(Json(json!({"unblocked_users": shown})))
}

/// `GET /customer/info?end_user_id=`.
pub async fn info(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::View, "/customer/info")?;
    let id = q
        .get("end_user_id")
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| ApiError::param("end_user_id", "end_user_id is required."))?;
    existing(&gw, id).await?;
    Ok(Json(stored(&gw, id).await?))
}

pub async fn list(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::View, "/customer/list")?;
    let pool = &gw.store.pool;
    let mut shown = Vec::new();
    for e in end_users::all(pool).await.map_err(db)? {
        shown.push(view(&gw, &e).await?);
    }
    Ok(Json(Value::Array(shown)))
}

async fn existing(gw: &Gateway, id: &str) -> Result<EndUserRow, ApiError> {
    end_users::get(&gw.store.pool, id)
        .await
        .map_err(db)?
        .ok_or_else(|| not_found("user_id", format!("Customer {id:?} does not exist.")))
}

/// The end user as stored now, shown; the registry is updated.
async fn stored(gw: &Gateway, id: &str) -> Result<Value, ApiError> {
    let e = existing(gw, id).await?;
    let shown = view(gw, &e).await?;
    gw.accounts.put_end_user(e);
    Ok(shown)
}

async fn view(gw: &Gateway, e: &EndUserRow) -> Result<Value, ApiError> {
    let budget = match &e.budget_id {
        Some(id) => budgets::get(&gw.store.pool, id).await.map_err(db)?,
        None => None,
    };
    Ok(views::end_user(e, budget.as_ref()))
}

fn user_ids(f: &Fields) -> Result<Vec<String>, ApiError> {
    f.ids("user_ids")?
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| ApiError::param("user_ids", "user_ids is required."))
}

/// Applies the settings a request sends to an end user.
async fn apply(gw: &Gateway, f: &Fields, e: &mut EndUserRow) -> Result<(), ApiError> {
    if f.money("max_budget")?.is_some() && f.string("budget_id")?.is_some() {
        return Err(ApiError::param(
            "max_budget",
            "Send max_budget or budget_id, not both (LiteLLM's rule).",
        ));
    }
    take!(f, e, alias, string);
    take!(f, e, blocked, bool, default);
    take!(f, e, budget_id, string);
    take!(f, e, max_budget, money);
    take!(f, e, tpm_limit, count);
    take!(f, e, rpm_limit, count);
    take!(f, e, metadata, object, default);
    if f.has("allowed_model_region") {
        e.allowed_model_region = match f.string("allowed_model_region")? {
            Some(r) if !REGIONS.contains(&r.as_str()) => {
                return Err(ApiError::param(
                    "allowed_model_region",
                    format!("allowed_model_region must be one of {REGIONS:?}."),
                ));
            }
            r => r,
        };
    }
    if f.has("default_model") {
        e.default_model = f.string("default_model")?;
        if let Some(m) = &e.default_model
            && !gw.router.has_group(m)
        {
            return Err(ApiError::param(
                "default_model",
                format!("default_model {m:?} is not a model of this gateway."),
            ));
        }
    }
    if f.has("budget_id")
        && let Some(id) = &e.budget_id
    {
        lookups::budget_or_400(gw, id, "budget_id").await?;
    }
    Ok(())
}
