//! Who may call the management API: the master key and users with the
//! `proxy_admin` role for everything; `proxy_admin_viewer` for reading
//! (info and list routes); nobody else, except that a key may read its own
//! info and its own user's. An open gateway (no master key) is open here
//! too, as LiteLLM's is; its virtual keys only take effect once a master
//! key is set.

use axum::http::{HeaderMap, StatusCode};

use crate::accounts::UserRole;
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::auth::Principal;

/// What a route does to accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Creates, changes or deletes.
    Change,
    /// Reads (info and list).
    View,
}

/// The caller, if allowed to do what `need` says on `route`.
pub fn caller(
    gw: &Gateway,
    headers: &HeaderMap,
    need: Need,
    route: &str,
) -> Result<Principal, ApiError> {
    let principal = gw.auth.authenticate(headers)?;
    if allowed(&principal, need) {
        Ok(principal)
    } else {
        Err(forbidden(&principal, route))
    }
}

/// Whether the caller may read every account (not only its own).
pub fn views_all(principal: &Principal) -> bool {
    allowed(principal, Need::View)
}

fn allowed(principal: &Principal, need: Need) -> bool {
    match principal {
        Principal::Admin | Principal::Anonymous => true,
        Principal::Key(_) => match (principal.role(), need) {
            (Some(role), Need::Change) => role.is_admin(),
            (Some(role), Need::View) => role.can_view_all(),
            (None, _) => false,
        },
    }
}

pub fn forbidden(principal: &Principal, route: &str) -> ApiError {
    let role = principal
        .role()
        .map_or("none (the key has no user)", UserRole::as_str);
    ApiError::new(
        StatusCode::FORBIDDEN,
        "permission_error",
        format!("{route} needs the master key or a proxy_admin user; the caller's role is {role}."),
    )
    .with_code("forbidden")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::accounts::KeyEntry;
    use crate::store::accounts::keys::KeyRow;
    use crate::store::accounts::users::UserRow;

    fn key_of(role: Option<&str>) -> Principal {
        Principal::Key(Arc::new(KeyEntry {
            key: KeyRow::default(),
            team: None,
            user: role.map(|r| {
                Arc::new(UserRow {
                    user_role: r.into(),
                    ..UserRow::default()
                })
            }),
        }))
    }

    #[test]
    fn admins_change_viewers_read_others_neither() {
        assert!(allowed(&Principal::Admin, Need::Change));
        assert!(allowed(&key_of(Some("proxy_admin")), Need::Change));
        assert!(!allowed(&key_of(Some("proxy_admin_viewer")), Need::Change));
        assert!(allowed(&key_of(Some("proxy_admin_viewer")), Need::View));
        for role in [Some("internal_user"), Some("internal_user_viewer"), None] {
            assert!(!allowed(&key_of(role), Need::View), "{role:?}");
            assert!(!allowed(&key_of(role), Need::Change), "{role:?}");
        }
    }
}
