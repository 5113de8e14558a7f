//! Rows that other rows refer to, read from the database (the management
//! path may wait on it; requests never do).

use super::{db, not_found};
use crate::accounts::UserRole;
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::store::accounts::teams::{self, TeamRow};
use crate::store::accounts::users::{self, UserRow};
use crate::store::accounts::{budgets, is_unique_violation};

/// The team a request names, or a 400 on `param` (the request is wrong,
/// not the route's own subject).
pub async fn team_or_400(gw: &Gateway, team_id: &str, param: &str) -> Result<TeamRow, ApiError> {
    teams::get(&gw.store.pool, team_id)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::param(param, format!("Team {team_id:?} does not exist.")))
}

/// The team a route is about, or a 404.
pub async fn team_or_404(gw: &Gateway, team_id: &str) -> Result<TeamRow, ApiError> {
    teams::get(&gw.store.pool, team_id)
        .await
        .map_err(db)?
        .ok_or_else(|| not_found("team_id", format!("Team {team_id:?} does not exist.")))
}

/// The budget a request names, or a 400 on `param`.
pub async fn budget_or_400(gw: &Gateway, budget_id: &str, param: &str) -> Result<(), ApiError> {
    match budgets::get(&gw.store.pool, budget_id).await.map_err(db)? {
        Some(_) => Ok(()),
        None => Err(ApiError::param(
            param,
            format!("Budget {budget_id:?} does not exist."),
        )),
    }
}

/// The user with this id, created with the default role if there is none
/// (LiteLLM creates the users that keys and teams name).
pub async fn ensure_user(gw: &Gateway, user_id: &str, now: i64) -> Result<UserRow, ApiError> {
    if let Some(user) = users::get(&gw.store.pool, user_id).await.map_err(db)? {
        return Ok(user);
    }
    let user = UserRow {
        user_id: user_id.to_string(),
        user_role: UserRole::DEFAULT.as_str().to_string(),
        created_at: now,
        updated_at: now,
        ..UserRow::default()
    };
    match users::insert(&gw.store.pool, &user).await {
        Ok(()) => {
            gw.accounts.put_user(user.clone());
            Ok(user)
        }
        // Created meanwhile by another request: use that one.
        Err(e) if is_unique_violation(&e) => users::get(&gw.store.pool, user_id)
            .await
            .map_err(db)?
            .ok_or_else(|| db(e)),
        Err(e) => Err(db(e)),
    }
}
