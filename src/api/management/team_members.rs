//! `/team/member_add` and `/team/member_delete`, and LiteLLM's member
//! objects: `{"role": "admin" | "user", "user_id": …}` or with
//! `user_email` instead of `user_id`. A member that is not a user yet is
//! created as one (as LiteLLM does).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::access::{self, Need};
use super::fields::Fields;
use super::{db, lookups, not_found, teams, views};
use crate::accounts::UserRole;
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::store::accounts::now;
use crate::store::accounts::teams as team_rows;
use crate::store::accounts::users::{self, UserRow};

const ROLES: [&str; 2] = ["admin", "user"];

/// `{"team_id", "member": {...} | [{...}]}`.
pub async fn add(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/team/member_add")?;
    let f = Fields::parse(&body)?;
    let team_id = f.required_string("team_id")?;
    lookups::team_or_404(&gw, &team_id).await?;
    let now = now();
    let member = f
        .raw("member")
        .ok_or_else(|| ApiError::param("member", "member is required."))?;
    let members = parse(&gw, member, "member", now).await?;
    team_rows::put_members(&gw.store.pool, &team_id, &members, now)
        .await
        .map_err(db)?;
    let mut shown = teams::shown(&gw, &team_id).await?;
    let mut updated = Vec::new();
    for (user_id, _) in &members {
        if let Some(u) = users::get(&gw.store.pool, user_id).await.map_err(db)? {
            let memberships = team_rows::memberships_of(&gw.store.pool, user_id)
                .await
                .map_err(db)?;
            updated.push(views::user(&u, &memberships));
        }
    }
    shown["updated_users"] = Value::Array(updated);
    Ok(Json(shown))
}

/// `{"team_id", "user_id" | "user_email"}`.
pub async fn delete(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/team/member_delete")?;
    let f = Fields::parse(&body)?;
    let team_id = f.required_string("team_id")?;
    lookups::team_or_404(&gw, &team_id).await?;
    let user_id = match (f.string("user_id")?, f.string("user_email")?) {
        (Some(id), _) => id,
        (None, Some(email)) => users::get_by_email(&gw.store.pool, &email)
            .await
            .map_err(db)?
            .map(|u| u.user_id)
            .ok_or_else(|| not_found("user_email", format!("No user has email {email:?}.")))?,
        (None, None) => {
            return Err(ApiError::param(
                "user_id",
                "user_id or user_email is required.",
            ));
        }
    };
    let removed = team_rows::remove_members(
        &gw.store.pool,
        &team_id,
        std::slice::from_ref(&user_id),
        now(),
    )
    .await
    .map_err(db)?;
    if removed == 0 {
        return Err(not_found(
            "user_id",
            format!("User {user_id:?} is not a member of team {team_id:?}."),
        ));
    }
    Ok(Json(teams::shown(&gw, &team_id).await?))
}

/// One member object or a list of them, as `(user_id, role)`; users that
/// do not exist yet are created.
pub async fn parse(
    gw: &Gateway,
    value: &Value,
    param: &str,
    now: i64,
) -> Result<Vec<(String, String)>, ApiError> {
    let objects: Vec<&Map<String, Value>> = match value {
        Value::Object(one) => vec![one],
        Value::Array(many) => many
            .iter()
            .map(Value::as_object)
            .collect::<Option<_>>()
            .ok_or_else(|| member_shape(param))?,
        _ => return Err(member_shape(param)),
    };
    let mut out = Vec::with_capacity(objects.len());
    for m in objects {
        let role = match m.get("role") {
            None | Some(Value::Null) => "user".to_string(),
            Some(Value::String(r)) if ROLES.contains(&r.as_str()) => r.clone(),
            Some(_) => {
                return Err(ApiError::param(
                    param,
                    format!("A member's role must be one of {ROLES:?}."),
                ));
            }
        };
        let user_id = match (m.get("user_id"), m.get("user_email")) {
            (Some(Value::String(id)), _) if !id.trim().is_empty() => {
                lookups::ensure_user(gw, id, now).await?.user_id
            }
            (_, Some(Value::String(email))) if !email.trim().is_empty() => {
                user_by_email(gw, email, now).await?.user_id
            }
            _ => return Err(member_shape(param)),
        };
        out.push((user_id, role));
    }
    Ok(out)
}

/// The user with this email, created (with a new id) if there is none.
async fn user_by_email(gw: &Gateway, email: &str, now: i64) -> Result<UserRow, ApiError> {
    if let Some(u) = users::get_by_email(&gw.store.pool, email)
        .await
        .map_err(db)?
    {
        return Ok(u);
    }
    let user = UserRow {
        user_id: uuid::Uuid::new_v4().to_string(),
        user_email: Some(email.to_string()),
        user_role: UserRole::DEFAULT.as_str().to_string(),
        created_at: now,
        updated_at: now,
        ..UserRow::default()
    };
    users::insert(&gw.store.pool, &user).await.map_err(db)?;
    gw.accounts.put_user(user.clone());
    Ok(user)
}

fn member_shape(param: &str) -> ApiError {
    ApiError::param(
        param,
        format!(
            "{param} must be a member object {{\"role\": \"admin\" | \"user\", \"user_id\" or \
             \"user_email\"}} or a list of them."
        ),
    )
}
