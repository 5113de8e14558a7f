//! What the request path knows about one virtual key: its row with its
//! team and user already resolved, so that authenticating a request is one
//! hash lookup and everything after it reads plain fields.

use std::sync::Arc;

use super::role::UserRole;
use crate::store::accounts::keys::KeyRow;
use crate::store::accounts::teams::TeamRow;
use crate::store::accounts::users::UserRow;

#[derive(Clone, Debug)]
pub struct KeyEntry {
    pub key: KeyRow,
    /// The key's team, when it names one that exists.
    pub team: Option<Arc<TeamRow>>,
    /// The key's user, when it names one that exists.
    pub user: Option<Arc<UserRow>>,
}

/// Why a known key may not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    KeyBlocked,
    TeamBlocked,
    /// `expires_at`, in unix seconds.
    Expired(i64),
}

impl KeyEntry {
    pub fn token_hash(&self) -> &str {
        &self.key.token_hash
    }

    /// The role of the key's user; a key without a user has none, and may
    /// call models but not manage anything.
    pub fn role(&self) -> Option<UserRole> {
        self.user
            .as_ref()
            .and_then(|u| UserRole::parse(&u.user_role))
    }

    /// Whether the key may be used at `now` (unix seconds).
    pub fn refusal(&self, now: i64) -> Option<Refusal> {
        if self.key.blocked {
            return Some(Refusal::KeyBlocked);
        }
        if self.team.as_ref().is_some_and(|t| t.blocked) {
            return Some(Refusal::TeamBlocked);
        }
        match self.key.expires_at {
            Some(at) if at <= now => Some(Refusal::Expired(at)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: KeyRow, team: Option<TeamRow>, user: Option<UserRow>) -> KeyEntry {
        KeyEntry {
            key,
            team: team.map(Arc::new),
            user: user.map(Arc::new),
        }
    }

    #[test]
    fn a_blocked_key_or_team_and_a_passed_expiry_refuse() {
        let open = entry(KeyRow::default(), None, None);
        assert_eq!(open.refusal(100), None);
        let blocked = entry(
            KeyRow {
                blocked: true,
                ..KeyRow::default()
            },
            None,
            None,
        );
        assert_eq!(blocked.refusal(100), Some(Refusal::KeyBlocked));
        let team = TeamRow {
            blocked: true,
            ..TeamRow::default()
        };
        let in_blocked_team = entry(KeyRow::default(), Some(team), None);
        assert_eq!(in_blocked_team.refusal(100), Some(Refusal::TeamBlocked));
        let expiring = entry(
            KeyRow {
                expires_at: Some(100),
                ..KeyRow::default()
            },
            None,
            None,
        );
        assert_eq!(expiring.refusal(99), None);
        assert_eq!(expiring.refusal(100), Some(Refusal::Expired(100)));
    }

    #[test]
    fn the_role_is_the_users() {
        let no_user = entry(KeyRow::default(), None, None);
        assert_eq!(no_user.role(), None);
        let admin = UserRow {
            user_role: "proxy_admin".into(),
            ..UserRow::default()
        };
        assert_eq!(
            entry(KeyRow::default(), None, Some(admin)).role(),
            Some(UserRole::ProxyAdmin)
        );
    }
}
