//! Rows as the management API shows them, with LiteLLM's field names and
//! times in RFC 3339. A key is shown by its hash (`token`) and masked
//! plaintext (`key_name`): the plaintext itself is not stored anywhere.

use serde_json::{Value, json};

use crate::accounts::format_time;
use crate::store::accounts::budgets::BudgetRow;
use crate::store::accounts::end_users::EndUserRow;
use crate::store::accounts::keys::KeyRow;
use crate::store::accounts::teams::{Member, TeamRow};
use crate::store::accounts::users::UserRow;

fn time(t: Option<i64>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format_time(t)))
}

pub fn key(k: &KeyRow) -> Value {
    json!({
        "token": k.token_hash,
        "key_name": k.key_name,
        "key_alias": k.key_alias,
        "user_id": k.user_id,
        "team_id": k.team_id,
        "models": k.models,
        "aliases": k.aliases,
        "max_budget": k.max_budget,
        "soft_budget": k.soft_budget,
        "budget_duration": k.budget_duration,
        "budget_reset_at": time(k.budget_reset_at),
        "spend": k.spend,
        "tpm_limit": k.tpm_limit,
        "rpm_limit": k.rpm_limit,
        "max_parallel_requests": k.max_parallel_requests,
        "model_rpm_limit": k.model_rpm_limit,
        "model_tpm_limit": k.model_tpm_limit,
        "model_max_budget": k.model_max_budget,
        "metadata": k.metadata,
        "tags": k.tags,
        "allowed_routes": k.allowed_routes,
        "blocked": k.blocked,
        "expires": time(k.expires_at),
        "data_class": k.data_class,
        "guardrails": k.guardrails,
        "created_at": time(Some(k.created_at)),
        "updated_at": time(Some(k.updated_at)),
    })
}

/// A key as `/key/generate` and `/key/regenerate` return it: with the
/// plaintext, this once.
pub fn new_key(k: &KeyRow, plaintext: &str) -> Value {
    let mut v = key(k);
    v["key"] = Value::String(plaintext.to_string());
    v
}

pub fn member(m: &Member) -> Value {
    json!({"user_id": m.user_id, "role": m.role})
}

pub fn team(t: &TeamRow, members: &[Member]) -> Value {
    json!({
        "team_id": t.team_id,
        "team_alias": t.team_alias,
        "models": t.models,
        "max_budget": t.max_budget,
        "soft_budget": t.soft_budget,
        "budget_duration": t.budget_duration,
        "budget_reset_at": time(t.budget_reset_at),
        "spend": t.spend,
        "tpm_limit": t.tpm_limit,
        "rpm_limit": t.rpm_limit,
        "max_parallel_requests": t.max_parallel_requests,
        "metadata": t.metadata,
        "tags": t.tags,
        "blocked": t.blocked,
        "data_class": t.data_class,
        "guardrails": t.guardrails,
        "members_with_roles": members.iter().map(member).collect::<Vec<_>>(),
        "created_at": time(Some(t.created_at)),
        "updated_at": time(Some(t.updated_at)),
    })
}

pub fn user(u: &UserRow, teams: &[Member]) -> Value {
    json!({
        "user_id": u.user_id,
        "user_email": u.user_email,
        "user_role": u.user_role,
        "teams": teams.iter().map(|m| m.team_id.clone()).collect::<Vec<_>>(),
        "models": u.models,
        "max_budget": u.max_budget,
        "soft_budget": u.soft_budget,
        "budget_duration": u.budget_duration,
        "budget_reset_at": time(u.budget_reset_at),
        "spend": u.spend,
        "tpm_limit": u.tpm_limit,
        "rpm_limit": u.rpm_limit,
        "max_parallel_requests": u.max_parallel_requests,
        "metadata": u.metadata,
        "data_class": u.data_class,
        "created_at": time(Some(u.created_at)),
        "updated_at": time(Some(u.updated_at)),
    })
}

pub fn budget(b: &BudgetRow) -> Value {
    json!({
        "budget_id": b.budget_id,
        "max_budget": b.max_budget,
        "soft_budget": b.soft_budget,
        "max_parallel_requests": b.max_parallel_requests,
        "tpm_limit": b.tpm_limit,
        "rpm_limit": b.rpm_limit,
        "budget_duration": b.budget_duration,
        "budget_reset_at": time(b.budget_reset_at),
        "model_max_budget": b.model_max_budget,
        "created_at": time(Some(b.created_at)),
        "updated_at": time(Some(b.updated_at)),
    })
}

/// An end user as LiteLLM's customer object: its own limits, and the
/// budget row it names (`litellm_budget_table`), if any.
pub fn end_user(e: &EndUserRow, budget_row: Option<&BudgetRow>) -> Value {
    json!({
        "user_id": e.end_user_id,
        "alias": e.alias,
        "blocked": e.blocked,
        "spend": e.spend,
        "max_budget": e.max_budget,
        "tpm_limit": e.tpm_limit,
        "rpm_limit": e.rpm_limit,
        "budget_id": e.budget_id,
        "allowed_model_region": e.allowed_model_region,
        "default_model": e.default_model,
        "metadata": e.metadata,
        "litellm_budget_table": budget_row.map(budget),
        "created_at": time(Some(e.created_at)),
        "updated_at": time(Some(e.updated_at)),
    })
}
