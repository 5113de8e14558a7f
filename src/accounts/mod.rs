//! The accounts every request reads, in memory: virtual keys by the hash of
//! their plaintext (each with its team and user resolved), teams, users,
//! end users and budgets.
//!
//! The database is the truth. It is read whole at start-up; every
//! management write goes to the database first and then here
//! (write-through); and a background refresh (`spawn_refresh`) picks up what
//! other gateway instances on the same database changed. The request path
//! never waits on the database: a read is a lock held for one map lookup
//! and an `Arc` clone, never across an `.await`.
//!
//! `spend` in these rows is as of the last read from the database; budgets
//! are enforced from the spend counted in memory (`crate::limits`).

mod entry;
mod models;
mod refresh;
mod role;

use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use entry::{KeyEntry, Refusal};
pub use models::{ALL_PROXY_MODELS, allows_model};
pub use refresh::DEFAULT_REFRESH_INTERVAL;
pub use role::UserRole;

use crate::store::accounts::budgets::BudgetRow;
use crate::store::accounts::end_users::EndUserRow;
use crate::store::accounts::keys::KeyRow;
use crate::store::accounts::teams::TeamRow;
use crate::store::accounts::users::UserRow;

/// Unix seconds as RFC 3339 in UTC (`2026-11-14T22:13:20Z`), the way
/// LiteLLM's API shows times.
pub fn format_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[derive(Default)]
pub struct Accounts {
    tables: RwLock<Tables>,
    /// The latest `updated_at` (or deletion time) read from the database:
    /// where the next refresh starts.
    latest_change: AtomicI64,
}

#[derive(Default)]
struct Tables {
    keys: HashMap<String, Arc<KeyEntry>>,
    teams: HashMap<String, Arc<TeamRow>>,
    users: HashMap<String, Arc<UserRow>>,
    end_users: HashMap<String, Arc<EndUserRow>>,
    budgets: HashMap<String, Arc<BudgetRow>>,
}

impl Accounts {
    /// An empty registry (no database rows yet).
    pub fn new() -> Accounts {
        Accounts::default()
    }

    /// The key whose plaintext hashes to `token_hash` (hex SHA-256).
    pub fn key(&self, token_hash: &str) -> Option<Arc<KeyEntry>> {
        self.read().keys.get(token_hash).cloned()
    }

    pub fn team(&self, team_id: &str) -> Option<Arc<TeamRow>> {
        self.read().teams.get(team_id).cloned()
    }

    pub fn user(&self, user_id: &str) -> Option<Arc<UserRow>> {
        self.read().users.get(user_id).cloned()
    }

    /// An end user, by the `user` field of a request.
    pub fn end_user(&self, end_user_id: &str) -> Option<Arc<EndUserRow>> {
        self.read().end_users.get(end_user_id).cloned()
    }

    pub fn budget(&self, budget_id: &str) -> Option<Arc<BudgetRow>> {
        self.read().budgets.get(budget_id).cloned()
    }

    /// How many keys are known (for start-up logs and tests).
    pub fn key_count(&self) -> usize {
        self.read().keys.len()
    }

    /// Adds or replaces a key, resolving its team and user.
    pub fn put_key(&self, key: KeyRow) {
        self.write().put_key(key);
    }

    pub fn remove_keys(&self, token_hashes: &[String]) {
        let mut t = self.write();
        for hash in token_hashes {
            t.keys.remove(hash);
        }
    }

    /// Adds or replaces a team; its keys see the new row at once.
    pub fn put_team(&self, team: TeamRow) {
        self.write().put_team(team);
    }

    pub fn remove_team(&self, team_id: &str) {
        self.write().remove_team(team_id);
    }

    /// Adds or replaces a user; the user's keys see the new row at once.
    pub fn put_user(&self, user: UserRow) {
        self.write().put_user(user);
    }

    pub fn remove_user(&self, user_id: &str) {
        self.write().remove_user(user_id);
    }

    pub fn put_end_user(&self, end_user: EndUserRow) {
        let mut t = self.write();
        t.end_users
            .insert(end_user.end_user_id.clone(), Arc::new(end_user));
    }

    pub fn remove_end_user(&self, end_user_id: &str) {
        self.write().end_users.remove(end_user_id);
    }

    pub fn put_budget(&self, budget: BudgetRow) {
        let mut t = self.write();
        t.budgets.insert(budget.budget_id.clone(), Arc::new(budget));
    }

    pub fn remove_budget(&self, budget_id: &str) {
        self.write().budgets.remove(budget_id);
    }

    // A panic while the lock was held cannot leave the maps half-updated
    // (each change is one insert or remove), so a poisoned lock is still
    // safe to read and write.
    fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.tables.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Tables> {
        self.tables.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Tables {
    fn entry(&self, key: KeyRow) -> KeyEntry {
        KeyEntry {
            team: key
                .team_id
                .as_ref()
                .and_then(|id| self.teams.get(id).cloned()),
            user: key
                .user_id
                .as_ref()
                .and_then(|id| self.users.get(id).cloned()),
            key,
        }
    }

    fn put_key(&mut self, key: KeyRow) {
        let entry = self.entry(key);
        self.keys
            .insert(entry.key.token_hash.clone(), Arc::new(entry));
    }

    fn put_team(&mut self, team: TeamRow) {
        let id = team.team_id.clone();
        self.teams.insert(id.clone(), Arc::new(team));
        self.re_resolve(|k| k.team_id.as_deref() == Some(id.as_str()));
    }

    fn remove_team(&mut self, team_id: &str) {
        if self.teams.remove(team_id).is_some() {
            self.re_resolve(|k| k.team_id.as_deref() == Some(team_id));
        }
    }

    fn put_user(&mut self, user: UserRow) {
        let id = user.user_id.clone();
        self.users.insert(id.clone(), Arc::new(user));
        self.re_resolve(|k| k.user_id.as_deref() == Some(id.as_str()));
    }

    fn remove_user(&mut self, user_id: &str) {
        if self.users.remove(user_id).is_some() {
            self.re_resolve(|k| k.user_id.as_deref() == Some(user_id));
        }
    }

    /// Rebuilds the entries of the keys `affected` picks, so that each
    /// holds the current team and user rows. A scan of all keys: team and
    /// user changes are management calls, rare next to requests.
    fn re_resolve(&mut self, affected: impl Fn(&KeyRow) -> bool) {
        let stale: Vec<KeyRow> = self
            .keys
            .values()
            .filter(|e| affected(&e.key))
            .map(|e| e.key.clone())
            .collect();
        for key in stale {
            self.put_key(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hash: &str, team: Option<&str>, user: Option<&str>) -> KeyRow {
        KeyRow {
            token_hash: hash.into(),
            team_id: team.map(Into::into),
            user_id: user.map(Into::into),
            ..KeyRow::default()
        }
    }

    #[test]
    fn a_key_carries_its_team_and_user_as_they_change() {
        let accounts = Accounts::new();
        accounts.put_key(key("h1", Some("t"), Some("u")));
        let entry = accounts.key("h1").unwrap();
        assert!(
            entry.team.is_none() && entry.user.is_none(),
            "not loaded yet"
        );

        accounts.put_team(TeamRow {
            team_id: "t".into(),
            blocked: true,
            ..TeamRow::default()
        });
        accounts.put_user(UserRow {
            user_id: "u".into(),
            user_role: "proxy_admin".into(),
            ..UserRow::default()
        });
        let entry = accounts.key("h1").unwrap();
        assert!(entry.team.as_ref().unwrap().blocked);
        assert_eq!(entry.role(), Some(UserRole::ProxyAdmin));

        accounts.remove_team("t");
        assert!(accounts.key("h1").unwrap().team.is_none());
        accounts.remove_keys(&["h1".to_string()]);
        assert!(accounts.key("h1").is_none());
    }

    #[test]
    fn other_keys_are_left_as_they_were() {
        let accounts = Accounts::new();
        accounts.put_key(key("a", Some("t1"), None));
        accounts.put_key(key("b", Some("t2"), None));
        let before = accounts.key("b").unwrap();
        accounts.put_team(TeamRow {
            team_id: "t1".into(),
            ..TeamRow::default()
        });
        assert!(Arc::ptr_eq(&before, &accounts.key("b").unwrap()));
        assert!(accounts.key("a").unwrap().team.is_some());
    }
}
