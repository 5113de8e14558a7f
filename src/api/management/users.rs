//! `/user/*`: users, their role (what their keys may do here), models,
//! limits and budget. `/user/new` also creates a key for the user unless
//! `auto_create_key` is false, as LiteLLM does.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Value, json};

use super::access::{self, Need};
use super::fields::{Fields, take};
use super::{db, keys as key_routes, lookups, not_found, page_param, views};
use crate::accounts::UserRole;
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::auth::hash_key;
use crate::store::accounts::keys::{self, KeyFilter, KeyRow};
use crate::store::accounts::users::{self, UserRow};
use crate::store::accounts::{is_unique_violation, now, teams};

/// The most keys `/user/info` lists.
const KEYS_SHOWN: u64 = 1000;

pub async fn new(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/user/new")?;
    let f = Fields::parse(&body)?;
    let now = now();
    let mut u = UserRow {
        user_id: match f.string("user_id")? {
            Some(id) if !id.trim().is_empty() => id,
            Some(_) => return Err(ApiError::param("user_id", "user_id must not be empty.")),
            None => uuid::Uuid::new_v4().to_string(),
        },
        user_role: UserRole::DEFAULT.as_str().to_string(),
        created_at: now,
        updated_at: now,
        ..UserRow::default()
    };
    apply(&f, &mut u, now)?;
    let team_ids = f.strings("teams")?.unwrap_or_default();
    for team_id in &team_ids {
        lookups::team_or_400(&gw, team_id, "teams").await?;
    }
    // Everything is checked before anything is written.
    let key = match f.bool("auto_create_key")?.unwrap_or(true) {
        true => Some(user_key(&gw, &f, &u, now).await?),
        false => None,
    };
    users::insert(&gw.store.pool, &u).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::param("user_id", format!("User {:?} exists already.", u.user_id))
        } else {
            db(e)
        }
    })?;
    gw.accounts.put_user(u.clone());
    for team_id in &team_ids {
        let member = [(u.user_id.clone(), "user".to_string())];
        teams::put_members(&gw.store.pool, team_id, &member, now)
            .await
            .map_err(db)?;
    }
    let memberships = teams::memberships_of(&gw.store.pool, &u.user_id)
        .await
        .map_err(db)?;
    let mut shown = views::user(&u, &memberships);
    shown["key"] = Value::Null;
    if let Some((k, plaintext)) = key {
        keys::insert(&gw.store.pool, &k).await.map_err(db)?;
        gw.accounts.put_key(k.clone());
        shown["key"] = Value::String(plaintext);
        shown["key_name"] = Value::String(k.key_name.clone());
        shown["token"] = Value::String(k.token_hash.clone());
        shown["key_alias"] = json!(k.key_alias);
        shown["expires"] = views::key(&k)["expires"].clone();
    }
    Ok(Json(shown))
}

/// The key `/user/new` creates: the user's, with the request's `key_alias`
/// and `duration`; the user's models and limits apply to it through the
/// user.
async fn user_key(
    gw: &Gateway,
    f: &Fields,
    u: &UserRow,
    now: i64,
) -> Result<(KeyRow, String), ApiError> {
    let plaintext = key_routes::new_plaintext();
    let key_alias = f.string("key_alias")?;
    if let Some(alias) = &key_alias
        && keys::get_by_alias(&gw.store.pool, alias)
            .await
            .map_err(db)?
            .is_some()
    {
        return Err(ApiError::param(
            "key_alias",
            format!("key_alias {alias:?} is already used by another key."),
        ));
    }
    let k = KeyRow {
        token_hash: hash_key(&plaintext),
        key_name: key_routes::masked(&plaintext),
        key_alias,
        user_id: Some(u.user_id.clone()),
        expires_at: f.expiry("duration", now)?.flatten(),
        created_at: now,
        updated_at: now,
        ..KeyRow::default()
    };
    Ok((k, plaintext))
}

pub async fn update(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/user/update")?;
    let f = Fields::parse(&body)?;
    let mut u = match (f.string("user_id")?, f.string("user_email")?) {
        (Some(id), _) => users::get(&gw.store.pool, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("user_id", format!("User {id:?} does not exist.")))?,
        (None, Some(email)) => users::get_by_email(&gw.store.pool, &email)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("user_email", format!("No user has email {email:?}.")))?,
        (None, None) => {
            return Err(ApiError::param(
                "user_id",
                "user_id or user_email is required.",
            ));
        }
    };
    let now = now();
    let budget_restarts = apply(&f, &mut u, now)?;
    u.updated_at = now;
    users::update(&gw.store.pool, &u).await.map_err(db)?;
    if budget_restarts {
        users::set_budget_reset_at(&gw.store.pool, &u.user_id, u.budget_reset_at, now)
            .await
            .map_err(db)?;
    }
    let (u, memberships) = stored(&gw, &u.user_id).await?;
    let view = views::user(&u, &memberships);
    gw.accounts.put_user(u);
    Ok(Json(json!({"user_id": view["user_id"], "data": view})))
}

/// `{"user_ids": [...]}`: the users with their keys and memberships (as
/// LiteLLM does); one unknown user is a 404 and nothing is deleted.
pub async fn delete(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/user/delete")?;
    let f = Fields::parse(&body)?;
    let ids = f
        .ids("user_ids")?
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| ApiError::param("user_ids", "user_ids is required."))?;
    for id in &ids {
        stored(&gw, id).await?;
    }
    let (deleted, keys) = users::delete(&gw.store.pool, &ids, now())
        .await
        .map_err(db)?;
    gw.accounts.remove_keys(&keys);
    for id in &deleted {
        gw.accounts.remove_user(id);
    }
    Ok(Json(
        json!({"deleted_users": deleted, "deleted_keys": keys}),
    ))
}

/// `GET /user/info?user_id=`: LiteLLM's `{"user_id", "user_info", "keys",
/// "teams"}`. Without `user_id`, the caller's key's user; a key may always
/// read its own user.
pub async fn info(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let principal = gw.auth.authenticate(&headers)?;
    let own = principal.key().and_then(|e| e.key.user_id.clone());
    let user_id = match q.get("user_id").filter(|u| !u.trim().is_empty()) {
        Some(id) => id.clone(),
        None => own
            .clone()
            .ok_or_else(|| ApiError::param("user_id", "user_id is required."))?,
    };
    if !access::views_all(&principal) && own.as_deref() != Some(user_id.as_str()) {
        return Err(access::forbidden(&principal, "/user/info"));
    }
    let (u, memberships) = stored(&gw, &user_id).await?;
    let pool = &gw.store.pool;
    let filter = KeyFilter {
        user_id: Some(user_id.clone()),
        ..KeyFilter::default()
    };
    let (user_keys, _) = keys::list(pool, &filter, 0, KEYS_SHOWN).await.map_err(db)?;
    let mut user_teams = Vec::new();
    for m in &memberships {
        if let Some(t) = teams::get(pool, &m.team_id).await.map_err(db)? {
            let members = teams::members(pool, &m.team_id).await.map_err(db)?;
            user_teams.push(views::team(&t, &members));
        }
    }
    Ok(Json(json!({
        "user_id": user_id,
        "user_info": views::user(&u, &memberships),
        "keys": user_keys.iter().map(views::key).collect::<Vec<_>>(),
        "teams": user_teams,
    })))
}

/// `GET /user/list?page=&page_size=&role=`.
pub async fn list(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::View, "/user/list")?;
    let page = page_param(&q, "page", 1, u64::MAX)?;
    let page_size = page_param(&q, "page_size", 25, 100)?;
    let role = match q.get("role") {
        Some(r) => Some(role_param(r, "role")?),
        None => None,
    };
    let pool = &gw.store.pool;
    let offset = (page - 1).saturating_mul(page_size);
    let (rows, total) = users::list(pool, role.map(UserRole::as_str), offset, page_size)
        .await
        .map_err(db)?;
    let mut shown = Vec::with_capacity(rows.len());
    for u in &rows {
        let memberships = teams::memberships_of(pool, &u.user_id).await.map_err(db)?;
        shown.push(views::user(u, &memberships));
    }
    Ok(Json(json!({
        "users": shown,
        "total": total,
        "page": page,
        "page_size": page_size,
        "total_pages": total.div_ceil(page_size),
    })))
}

/// The user as stored, with the teams it is in; a 404 if there is none.
async fn stored(
    gw: &Gateway,
    user_id: &str,
) -> Result<(UserRow, Vec<crate::store::accounts::teams::Member>), ApiError> {
    let pool = &gw.store.pool;
    let u = users::get(pool, user_id)
        .await
        .map_err(db)?
        .ok_or_else(|| not_found("user_id", format!("User {user_id:?} does not exist.")))?;
    let memberships = teams::memberships_of(pool, user_id).await.map_err(db)?;
    Ok((u, memberships))
}

fn role_param(value: &str, param: &str) -> Result<UserRole, ApiError> {
    UserRole::parse(value).ok_or_else(|| {
        let names: Vec<&str> = UserRole::ALL.iter().map(|r| r.as_str()).collect();
        ApiError::param(param, format!("{param} must be one of {names:?}."))
    })
}

/// Applies the settings a request sends to a user; returns whether
/// `budget_duration` was sent, which restarts the budget period.
fn apply(f: &Fields, u: &mut UserRow, now: i64) -> Result<bool, ApiError> {
    if let Some(role) = f.string("user_role")? {
        u.user_role = role_param(&role, "user_role")?.as_str().to_string();
    }
    take!(f, u, user_email, string);
    take!(f, u, models, strings, default);
    take!(f, u, max_budget, money);
    take!(f, u, soft_budget, money);
    take!(f, u, tpm_limit, count);
    take!(f, u, rpm_limit, count);
    take!(f, u, max_parallel_requests, count);
    take!(f, u, metadata, object, default);
    take!(f, u, data_class, string);
    Ok(match f.budget_duration(now)? {
        Some(period) => {
            u.budget_duration = period.duration;
            u.budget_reset_at = period.reset_at;
            true
        }
        None => false,
    })
}
