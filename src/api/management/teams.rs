//! `/team/*`: a team's models, limits and budget, shared by its keys. A
//! blocked team's keys are refused. Members are in `team_members.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Value, json};

use super::access::{self, Need};
use super::fields::{Fields, take};
use super::{db, lookups, not_found, team_members, views};
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::store::accounts::keys::{self, KeyFilter};
use crate::store::accounts::teams::{self, TeamRow};
use crate::store::accounts::{is_unique_violation, now};

/// The most keys `/team/info` lists.
const KEYS_SHOWN: u64 = 1000;

pub async fn new(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/team/new")?;
    let f = Fields::parse(&body)?;
    let now = now();
    let team_id = match f.string("team_id")? {
        Some(id) if !id.trim().is_empty() => id,
        Some(_) => return Err(ApiError::param("team_id", "team_id must not be empty.")),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let mut t = TeamRow {
        team_id: team_id.clone(),
        created_at: now,
        updated_at: now,
        ..TeamRow::default()
    };
    apply(&f, &mut t, now)?;
    let members = match f.raw("members_with_roles") {
        Some(v) => team_members::parse(&gw, v, "members_with_roles", now).await?,
        None => Vec::new(),
    };
    teams::insert(&gw.store.pool, &t).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::param("team_id", format!("Team {team_id:?} exists already."))
        } else {
            db(e)
        }
    })?;
    if !members.is_empty() {
        teams::put_members(&gw.store.pool, &team_id, &members, now)
            .await
            .map_err(db)?;
    }
    gw.accounts.put_team(t);
    Ok(Json(shown(&gw, &team_id).await?))
}

pub async fn update(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/team/update")?;
    let f = Fields::parse(&body)?;
    let team_id = f.required_string("team_id")?;
    let mut t = lookups::team_or_404(&gw, &team_id).await?;
    let now = now();
    let budget_restarts = apply(&f, &mut t, now)?;
    t.updated_at = now;
    teams::update(&gw.store.pool, &t).await.map_err(db)?;
    if budget_restarts {
        teams::set_budget_reset_at(&gw.store.pool, &team_id, t.budget_reset_at, now)
            .await
            .map_err(db)?;
    }
    Ok(Json(
        json!({"team_id": team_id, "data": shown(&gw, &team_id).await?}),
    ))
}

/// `{"team_ids": [...]}`: the teams, their members and their keys (as
/// LiteLLM does); one unknown team is a 404 and nothing is deleted.
pub async fn delete(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/team/delete")?;
    let f = Fields::parse(&body)?;
    let ids = f
        .ids("team_ids")?
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| ApiError::param("team_ids", "team_ids is required."))?;
    for id in &ids {
        lookups::team_or_404(&gw, id).await?;
    }
    let (deleted, keys) = teams::delete(&gw.store.pool, &ids, now())
        .await
        .map_err(db)?;
    gw.accounts.remove_keys(&keys);
    for id in &deleted {
        gw.accounts.remove_team(id);
    }
    Ok(Json(
        json!({"deleted_teams": deleted, "deleted_keys": keys}),
    ))
}

pub async fn block(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/team/block")?;
    set_blocked(&gw, &body, true).await
}

pub async fn unblock(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/team/unblock")?;
    set_blocked(&gw, &body, false).await
}

async fn set_blocked(gw: &Gateway, body: &Bytes, blocked: bool) -> Result<Json<Value>, ApiError> {
    let f = Fields::parse(body)?;
    let team_id = f.required_string("team_id")?;
    if !teams::set_blocked(&gw.store.pool, &team_id, blocked, now())
        .await
        .map_err(db)?
    {
        return Err(not_found(
            "team_id",
            format!("Team {team_id:?} does not exist."),
        ));
    }
    Ok(Json(shown(gw, &team_id).await?))
}

/// `GET /team/info?team_id=`: LiteLLM's `{"team_id", "team_info", "keys",
/// "team_memberships"}`. A key may read its own team.
pub async fn info(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let principal = gw.auth.authenticate(&headers)?;
    let own = principal.key().and_then(|e| e.key.team_id.clone());
    let team_id = match q.get("team_id").filter(|t| !t.trim().is_empty()) {
        Some(id) => id.clone(),
        None => own
            .clone()
            .ok_or_else(|| ApiError::param("team_id", "team_id is required."))?,
    };
    if !access::views_all(&principal) && own.as_deref() != Some(team_id.as_str()) {
        return Err(access::forbidden(&principal, "/team/info"));
    }
    let t = lookups::team_or_404(&gw, &team_id).await?;
    let pool = &gw.store.pool;
    let members = teams::members(pool, &team_id).await.map_err(db)?;
    let filter = KeyFilter {
        team_id: Some(team_id.clone()),
        ..KeyFilter::default()
    };
    let (team_keys, _) = keys::list(pool, &filter, 0, KEYS_SHOWN).await.map_err(db)?;
    let memberships: Vec<Value> = members
        .iter()
        .map(|m| json!({"team_id": m.team_id, "user_id": m.user_id, "role": m.role}))
        .collect();
    Ok(Json(json!({
        "team_id": team_id,
        "team_info": views::team(&t, &members),
        "keys": team_keys.iter().map(views::key).collect::<Vec<_>>(),
        "team_memberships": memberships,
    })))
}

/// `GET /team/list[?user_id=]`: every team, or the teams of one user.
pub async fn list(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::View, "/team/list")?;
    let pool = &gw.store.pool;
    let all = teams::all(pool).await.map_err(db)?;
    let only: Option<Vec<String>> = match q.get("user_id") {
        Some(user_id) => Some(
            teams::memberships_of(pool, user_id)
                .await
                .map_err(db)?
                .into_iter()
                .map(|m| m.team_id)
                .collect(),
        ),
        None => None,
    };
    let mut shown_teams = Vec::new();
    for t in all {
        if only.as_ref().is_some_and(|ids| !ids.contains(&t.team_id)) {
            continue;
        }
        let members = teams::members(pool, &t.team_id).await.map_err(db)?;
        shown_teams.push(views::team(&t, &members));
    }
    Ok(Json(Value::Array(shown_teams)))
}

/// The team as stored now, with its members; the registry is updated.
pub async fn shown(gw: &Gateway, team_id: &str) -> Result<Value, ApiError> {
    let t = lookups::team_or_404(gw, team_id).await?;
    let members = teams::members(&gw.store.pool, team_id).await.map_err(db)?;
    let view = views::team(&t, &members);
    gw.accounts.put_team(t);
    Ok(view)
}

/// Applies the settings a request sends to a team; returns whether
/// `budget_duration` was sent, which restarts the budget period.
fn apply(f: &Fields, t: &mut TeamRow, now: i64) -> Result<bool, ApiError> {
    take!(f, t, team_alias, string);
    take!(f, t, models, strings, default);
    take!(f, t, max_budget, money);
    take!(f, t, soft_budget, money);
    take!(f, t, tpm_limit, count);
    take!(f, t, rpm_limit, count);
    take!(f, t, max_parallel_requests, count);
    take!(f, t, metadata, object, default);
    take!(f, t, tags, strings, default);
    take!(f, t, blocked, bool, default);
    take!(f, t, data_class, string);
    take!(f, t, guardrails, strings, default);
    Ok(match f.budget_duration(now)? {
        Some(period) => {
            t.budget_duration = period.duration;
            t.budget_reset_at = period.reset_at;
            true
        }
        None => false,
    })
}
