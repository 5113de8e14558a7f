//! What the request path knows about who spent, to make an alert readable:
//! `limits::Alert` names its scope only by id (a key by its hash).

use crate::accounts::KeyEntry;

/// Names and ids around an alert, all optional. A request builds one only
/// when `Reservation::settle` returned alerts, which is rare.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertContext {
    /// The key's SHA-256 hash (LiteLLM's `token`).
    pub key_hash: Option<String>,
    /// The key's masked form, `sk-...abcd` (`key_name`). A value that looks
    /// like a whole key is masked again before it is sent.
    pub key_name: Option<String>,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub team_id: Option<String>,
    pub team_alias: Option<String>,
    /// The request's `user` field (LiteLLM's customer).
    pub end_user_id: Option<String>,
    /// When the alert's scope's budget period began (unix seconds);
    /// `Alerter::send_settled` fills it in from `Budgets`.
    pub period_start: Option<u64>,
}

impl AlertContext {
    /// The context of a request made with `entry`'s key.
    pub fn for_key(entry: &KeyEntry, end_user_id: Option<&str>) -> AlertContext {
        AlertContext {
            key_hash: Some(entry.key.token_hash.clone()),
            key_name: Some(entry.key.key_name.clone()).filter(|n| !n.is_empty()),
            key_alias: entry.key.key_alias.clone(),
            user_id: entry.key.user_id.clone(),
            user_email: entry.user.as_ref().and_then(|u| u.user_email.clone()),
            team_id: entry.key.team_id.clone(),
            team_alias: entry.team.as_ref().and_then(|t| t.team_alias.clone()),
            end_user_id: end_user_id.map(str::to_string),
            period_start: None,
        }
    }
}

/// `sk-...abcd`. A `key_name` is stored masked already; this guards
/// against a caller handing over the plaintext by mistake.
pub(super) fn masked_key(name: &str) -> String {
    if name.contains("...") || name.chars().count() <= 12 {
        return name.to_string();
    }
    crate::config::Secret(name.to_string()).masked()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::accounts::keys::KeyRow;
    use crate::store::accounts::teams::TeamRow;
    use crate::store::accounts::users::UserRow;

    #[test]
    fn for_key_takes_names_from_the_key_its_user_and_its_team() {
        let entry = KeyEntry {
            key: KeyRow {
                token_hash: "ab12".into(),
                key_name: "sk-...wxyz".into(),
                key_alias: Some("billing-app".into()),
                user_id: Some("u1".into()),
                team_id: Some("t1".into()),
                ..KeyRow::default()
            },
            team: Some(Arc::new(TeamRow {
                team_alias: Some("Marketing".into()),
                ..TeamRow::default()
            })),
            user: Some(Arc::new(UserRow {
                user_email: Some("ana@example.com".into()),
                ..UserRow::default()
            })),
        };
        let context = AlertContext::for_key(&entry, Some("customer-7"));
        assert_eq!(context.key_hash.as_deref(), Some("ab12"));
        assert_eq!(context.key_name.as_deref(), Some("sk-...wxyz"));
        assert_eq!(context.team_alias.as_deref(), Some("Marketing"));
        assert_eq!(context.user_email.as_deref(), Some("ana@example.com"));
        assert_eq!(context.end_user_id.as_deref(), Some("customer-7"));
    }

    #[test]
    fn a_plaintext_key_is_masked() {
        assert_eq!(masked_key("sk-...wxyz"), "sk-...wxyz");
        assert_eq!(masked_key("sk-abcdefghijklmnop1234"), "sk-...1234");
        assert_eq!(masked_key("short"), "short");
    }
}
