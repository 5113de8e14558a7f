//! Who a limit applies to. Ids are plain shared strings (`Arc<str>`: cloned
//! per request without copying), so this module knows nothing of how keys,
//! users or teams are stored.

use std::fmt;
use std::sync::Arc;

/// A holder of rate limits (`rpm`, `tpm`, `max_parallel_requests`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeId {
    /// A virtual key, by its hash (never the plaintext).
    Key(Arc<str>),
    User(Arc<str>),
    Team(Arc<str>),
    /// The request's `user` field (LiteLLM's "customer").
    EndUser(Arc<str>),
    /// One model through one key (`model_rpm_limit`, `model_tpm_limit`).
    ModelPerKey {
        key: Arc<str>,
        model: Arc<str>,
    },
}

/// A holder of a budget.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BudgetScope {
    /// A virtual key, by its hash (never the plaintext).
    Key(Arc<str>),
    User(Arc<str>),
    Team(Arc<str>),
    /// The request's `user` field (LiteLLM's "customer").
    EndUser(Arc<str>),
    /// A request tag (spend by tag, tag budgets).
    Tag(Arc<str>),
    /// One model through one key (`model_max_budget`).
    ModelPerKey {
        key: Arc<str>,
        model: Arc<str>,
    },
}

/// Both render the same way in error messages: `team "marketing"`.
fn describe(f: &mut fmt::Formatter<'_>, kind: &str, id: &str) -> fmt::Result {
    write!(f, "{kind} {id:?}")
}

impl fmt::Display for ScopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeId::Key(id) => describe(f, "key", id),
            ScopeId::User(id) => describe(f, "user", id),
            ScopeId::Team(id) => describe(f, "team", id),
            ScopeId::EndUser(id) => describe(f, "end user", id),
            ScopeId::ModelPerKey { key, model } => {
                write!(f, "model {model:?} for key {key:?}")
            }
        }
    }
}

impl fmt::Display for BudgetScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BudgetScope::Key(id) => describe(f, "key", id),
            BudgetScope::User(id) => describe(f, "user", id),
            BudgetScope::Team(id) => describe(f, "team", id),
            BudgetScope::EndUser(id) => describe(f, "end user", id),
            BudgetScope::Tag(id) => describe(f, "tag", id),
            BudgetScope::ModelPerKey { key, model } => {
                write!(f, "model {model:?} for key {key:?}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_kind_and_id() {
        assert_eq!(ScopeId::Team("mkt".into()).to_string(), "team \"mkt\"");
        assert_eq!(BudgetScope::Tag("prod".into()).to_string(), "tag \"prod\"");
        let per_model = BudgetScope::ModelPerKey {
            key: "ab12".into(),
            model: "gpt-4o".into(),
        };
        assert_eq!(per_model.to_string(), "model \"gpt-4o\" for key \"ab12\"");
    }
}
