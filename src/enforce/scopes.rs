//! The rate-limit and budget scopes one request counts against: its key,
//! the key's user and team, its end user (the body's `user`) and the
//! requested model through the key. Each with its limits, read from the
//! in-memory accounts.

use std::sync::Arc;

use serde_json::Value;

use crate::accounts::KeyEntry;
use crate::config::TagBudget;
use crate::limits::{BudgetLimit, BudgetScope, Limits, Period, ScopeId};
use crate::store::accounts::budgets::BudgetRow;
use crate::store::accounts::end_users::EndUserRow;

/// A budget scope, its limit, and what the store says it has spent (to
/// seed the in-memory ledger the first time the scope is seen).
pub struct Budgeted {
    pub scope: BudgetScope,
    pub limit: BudgetLimit,
    pub stored_spend: f64,
    pub reset_at: Option<i64>,
}

/// The end user of a request, with the budget row it points to.
pub struct EndUser {
    pub row: Arc<EndUserRow>,
    pub budget: Option<Arc<BudgetRow>>,
}

fn id(s: &str) -> Arc<str> {
    Arc::from(s)
}

fn parallel(n: Option<u64>) -> Option<u32> {
    n.map(|n| n.min(u64::from(u32::MAX)) as u32)
}

fn period(duration: &Option<String>) -> Option<Period> {
    duration.as_deref().and_then(|d| Period::parse(d).ok())
}

/// Rate scopes, tightest first is not required: the limiter checks all.
pub fn rate_scopes(
    key: Option<&KeyEntry>,
    end_user: Option<&EndUser>,
    model: &str,
) -> Vec<(ScopeId, Limits)> {
    let mut out = Vec::new();
    if let Some(e) = key {
        let k = &e.key;
        let hash = id(&k.token_hash);
        out.push((
            ScopeId::Key(hash.clone()),
            Limits {
                rpm: k.rpm_limit,
                tpm: k.tpm_limit,
                max_parallel_requests: parallel(k.max_parallel_requests),
            },
        ));
        let per_model = |limits: &Option<crate::store::accounts::ModelLimits>| {
            limits.as_ref().and_then(|m| m.get(model).copied())
        };
        let (rpm, tpm) = (per_model(&k.model_rpm_limit), per_model(&k.model_tpm_limit));
        if rpm.is_some() || tpm.is_some() {
            out.push((
                ScopeId::ModelPerKey {
                    key: hash,
                    model: id(model),
                },
                Limits {
                    rpm,
                    tpm,
                    max_parallel_requests: None,
                },
            ));
        }
        if let Some(u) = &e.user {
            out.push((
                ScopeId::User(id(&u.user_id)),
                Limits {
                    rpm: u.rpm_limit,
                    tpm: u.tpm_limit,
                    max_parallel_requests: parallel(u.max_parallel_requests),
                },
            ));
        }
        if let Some(t) = &e.team {
            out.push((
                ScopeId::Team(id(&t.team_id)),
                Limits {
                    rpm: t.rpm_limit,
                    tpm: t.tpm_limit,
                    max_parallel_requests: parallel(t.max_parallel_requests),
                },
            ));
        }
    }
    if let Some(eu) = end_user {
        let b = eu.budget.as_deref();
        out.push((
            ScopeId::EndUser(id(&eu.row.end_user_id)),
            Limits {
                rpm: eu.row.rpm_limit.or(b.and_then(|b| b.rpm_limit)),
                tpm: eu.row.tpm_limit.or(b.and_then(|b| b.tpm_limit)),
                max_parallel_requests: parallel(b.and_then(|b| b.max_parallel_requests)),
            },
        ));
    }
    out.retain(|(_, l)| l.rpm.is_some() || l.tpm.is_some() || l.max_parallel_requests.is_some());
    out
}

/// Budget scopes with a `max_budget` or `soft_budget`: the key's, its
/// user's and team's, the end user's, the model's through the key, and
/// each of the request's tags that has a budget.
pub fn budget_scopes(
    key: Option<&KeyEntry>,
    end_user: Option<&EndUser>,
    model: &str,
    tags: &[String],
    tag_budgets: &[TagBudget],
) -> Vec<Budgeted> {
    let mut out = Vec::new();
    let mut push = |scope, max_budget, soft_budget, duration: &Option<String>, spend, reset_at| {
        out.push(Budgeted {
            scope,
            limit: BudgetLimit {
                max_budget,
                soft_budget,
                period: period(duration),
            },
            stored_spend: spend,
            reset_at,
        })
    };
    if let Some(e) = key {
        let k = &e.key;
        let hash = id(&k.token_hash);
        push(
            BudgetScope::Key(hash.clone()),
            k.max_budget,
            k.soft_budget,
            &k.budget_duration,
            k.spend,
            k.budget_reset_at,
        );
        if let Some((max, duration)) = model_budget(k.model_max_budget.as_ref(), model) {
            push(
                BudgetScope::ModelPerKey {
                    key: hash,
                    model: id(model),
                },
                Some(max),
                None,
                &duration,
                0.0,
                None,
            );
        }
        if let Some(u) = &e.user {
            push(
                BudgetScope::User(id(&u.user_id)),
                u.max_budget,
                u.soft_budget,
                &u.budget_duration,
                u.spend,
                u.budget_reset_at,
            );
        }
        if let Some(t) = &e.team {
            push(
                BudgetScope::Team(id(&t.team_id)),
                t.max_budget,
                t.soft_budget,
                &t.budget_duration,
                t.spend,
                t.budget_reset_at,
            );
        }
    }
    if let Some(eu) = end_user {
        let b = eu.budget.as_deref();
        let duration = b.and_then(|b| b.budget_duration.clone());
        push(
            BudgetScope::EndUser(id(&eu.row.end_user_id)),
            eu.row.max_budget.or(b.and_then(|b| b.max_budget)),
            b.and_then(|b| b.soft_budget),
            &duration,
            eu.row.spend,
            b.and_then(|b| b.budget_reset_at),
        );
    }
    for budget in tag_budgets.iter().filter(|b| tags.contains(&b.tag)) {
        out.push(Budgeted {
            scope: BudgetScope::Tag(id(&budget.tag)),
            limit: BudgetLimit {
                max_budget: Some(budget.max_budget),
                soft_budget: None,
                period: budget.period,
            },
            // Seeded from the spend logs at start-up (`seed_tag_budgets`).
            stored_spend: 0.0,
            reset_at: None,
        });
    }
    out.retain(|b| b.limit.max_budget.is_some() || b.limit.soft_budget.is_some());
    out
}

/// `model_max_budget: {model: {budget_limit, time_period}}` (LiteLLM's
/// shape; `max_budget` / `budget_duration` are accepted too).
fn model_budget(
    budgets: Option<&serde_json::Map<String, Value>>,
    model: &str,
) -> Option<(f64, Option<String>)> {
    let entry = budgets?.get(model)?;
    let max = entry
        .get("budget_limit")
        .or_else(|| entry.get("max_budget"))
        .and_then(Value::as_f64)
        .or_else(|| entry.as_f64())?;
    let duration = entry
        .get("time_period")
        .or_else(|| entry.get("budget_duration"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Some((max, duration))
}
