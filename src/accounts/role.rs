//! A user's role (LiteLLM's names), which decides what that user's keys
//! may do on the management API. Calls to models are open to every role.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserRole {
    /// Everything, as the master key.
    ProxyAdmin,
    /// Reads everything on the management API (info and list), changes nothing.
    ProxyAdminViewer,
    /// Calls models with their keys; no management.
    InternalUser,
    /// As `InternalUser` (LiteLLM's viewer only differs in its admin UI).
    InternalUserViewer,
}

impl UserRole {
    pub const ALL: [UserRole; 4] = [
        UserRole::ProxyAdmin,
        UserRole::ProxyAdminViewer,
        UserRole::InternalUser,
        UserRole::InternalUserViewer,
    ];

    /// The role of a user created without one (LiteLLM's default).
    pub const DEFAULT: UserRole = UserRole::InternalUser;

    pub fn parse(s: &str) -> Option<UserRole> {
        UserRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::ProxyAdmin => "proxy_admin",
            UserRole::ProxyAdminViewer => "proxy_admin_viewer",
            UserRole::InternalUser => "internal_user",
            UserRole::InternalUserViewer => "internal_user_viewer",
        }
    }

    /// May change accounts.
    pub fn is_admin(self) -> bool {
        self == UserRole::ProxyAdmin
    }

    /// May read every account.
    pub fn can_view_all(self) -> bool {
        matches!(self, UserRole::ProxyAdmin | UserRole::ProxyAdminViewer)
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for role in UserRole::ALL {
            assert_eq!(UserRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(UserRole::parse("admin"), None);
        assert_eq!(UserRole::parse("PROXY_ADMIN"), None);
    }

    #[test]
    fn only_admins_change_and_only_admin_roles_read_everything() {
        assert!(UserRole::ProxyAdmin.is_admin());
        assert!(!UserRole::ProxyAdminViewer.is_admin());
        assert!(UserRole::ProxyAdminViewer.can_view_all());
        assert!(!UserRole::InternalUser.can_view_all());
        assert!(!UserRole::InternalUserViewer.can_view_all());
    }
}
