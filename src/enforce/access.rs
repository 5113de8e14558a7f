//! What a virtual key may call: model groups (the key's, its team's and its
//! user's `models`, all of which must allow it), routes (`allowed_routes`),
//! and whether the request's end user is blocked. The model rule is also a
//! router policy, so that no fallback reaches a group the key may not call.

use std::sync::Arc;

use axum::http::StatusCode;

use crate::accounts::{KeyEntry, allows_model};
use crate::api::error::ApiError;
use crate::config::Deployment;
use crate::router::Policy;

/// The model lists a key's request must pass, and which refused.
pub struct ModelAccess {
    entry: Arc<KeyEntry>,
    /// The group the requested name routes to and the name itself: a
    /// wildcard group or an alias is allowed by the name the client used.
    requested: (Option<String>, String),
}

impl ModelAccess {
    pub fn new(entry: Arc<KeyEntry>, requested_group: Option<String>, model: &str) -> Self {
        ModelAccess {
            entry,
            requested: (requested_group, model.to_string()),
        }
    }

    /// Which of the key's, team's and user's lists refuses `name`, if any.
    fn refuser(&self, name: &str) -> Option<(&'static str, &[String])> {
        let e = &self.entry;
        if !allows_model(&e.key.models, name) {
            return Some(("key", &e.key.models));
        }
        if let Some(team) = &e.team
            && !allows_model(&team.models, name)
        {
            return Some(("team", &team.models));
        }
        if let Some(user) = &e.user
            && !allows_model(&user.models, name)
        {
            return Some(("user", &user.models));
        }
        None
    }

    fn allowed(&self, group: &str) -> bool {
        let (requested_group, model) = &self.requested;
        self.refuser(group).is_none()
            || (requested_group.as_deref() == Some(group) && self.refuser(model).is_none())
    }

    /// The refusal for the model the client asked for, before any routing.
    pub fn check_requested(&self) -> Result<(), ApiError> {
        let (group, model) = &self.requested;
        match group {
            Some(g) if self.allowed(g) => Ok(()),
            None if self.refuser(model).is_none() => Ok(()),
            _ => Err(self.refusal(model)),
        }
    }
}

impl Policy for ModelAccess {
    fn admits(&self, d: &Deployment) -> bool {
        self.allowed(&d.group)
    }

    fn refusal(&self, group: &str) -> ApiError {
        let (level, models) = self
            .refuser(group)
            .or_else(|| self.refuser(&self.requested.1))
            .unwrap_or(("key", &[]));
        ApiError::new(
            StatusCode::FORBIDDEN,
            &format!("{level}_model_access_denied"),
            format!(
                "This {level} is not allowed to call model={group}. It may call: {}.",
                models.join(", ")
            ),
        )
        .with_param("model")
        .with_code("403")
    }
}

/// `allowed_routes` of a key: empty allows every route; an entry matches
/// the path exactly, with or without the `/v1` prefix.
pub fn check_route(entry: &KeyEntry, path: &str) -> Result<(), ApiError> {
    let routes = &entry.key.allowed_routes;
    let bare = path.strip_prefix("/v1").unwrap_or(path);
    if routes.is_empty()
        || routes
            .iter()
            .any(|r| r == path || r.strip_prefix("/v1").unwrap_or(r) == bare)
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "permission_error",
        format!(
            "This key may not call {path}. Its allowed routes are: {}.",
            routes.join(", ")
        ),
    )
    .with_code("route_not_allowed"))
}

pub fn end_user_blocked(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "permission_error",
        format!("The end user {id:?} is blocked."),
    )
    .with_param("user")
    .with_code("end_user_blocked")
}
