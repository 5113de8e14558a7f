//! The JSON shapes of LiteLLM's spend endpoints, so that scripts written
//! against them read ours: a `LiteLLM_SpendLogs` row, `/spend/logs`'
//! per-day summary, and `/global/spend/report`'s per-day list of groups.
//! Fields LiteLLM lacks are added beside its own, never in their place.

use serde_json::{Map, Value, json};

use super::dates;
use super::record::SpendRecord;
use super::report::{Group, GroupBy, Period, usd};

/// A log row with LiteLLM's field names (`api_key` is the key's hash,
/// `user` the key's owner, `end_user` the customer).
pub fn log_row(r: &SpendRecord) -> Value {
    json!({
        "request_id": r.request_id,
        "call_type": r.call_type.as_str(),
        "api_key": r.key_hash,
        "spend": r.cost,
        "total_tokens": r.total_tokens,
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "startTime": dates::rfc3339(r.start_time_ms),
        "endTime": dates::rfc3339(r.end_time_ms),
        "completionStartTime": r.ttft_ms.map(|t| dates::rfc3339(r.start_time_ms + t)),
        "model": r.model,
        "model_id": r.deployment_id,
        "model_group": r.model_group,
        "custom_llm_provider": r.provider,
        "api_base": r.api_base,
        "user": r.user_id,
        "team_id": r.team_id,
        "end_user": r.end_user,
        "request_tags": r.tags,
        "cache_hit": r.cache_hit,
        "status": r.status.as_str(),
        "metadata": {
            "user_api_key_alias": r.key_alias,
            "user_api_key_team_id": r.team_id,
            "user_api_key_user_id": r.user_id,
            "cached_read_tokens": r.cached_read_tokens,
            "cache_write_tokens": r.cache_write_tokens,
            "cost_estimated": r.cost_estimated,
            "time_to_first_token_ms": r.ttft_ms,
            "error_type": r.error_type,
            "http_status": r.http_status,
        },
    })
}

/// `/spend/logs?start_date=…&end_date=…` as LiteLLM summarises it: one
/// object per day of the range (days without spend too), with the day's
/// `spend`, spend per `users` and per `models`, and spend per key hash as
/// a field of its own. `days` comes from a report grouped by user.
pub fn daily_summary(days: &[Period], first_day: i64, last_day: i64) -> Value {
    let mut out = Vec::new();
    let mut next = days.iter().peekable();
    for day in first_day..=last_day {
        let date = dates::date_of_day(day);
        let mut entry = Map::new();
        entry.insert("startTime".into(), json!(dates::format_date(date)));
        let (mut spend, mut users, mut models) = (0.0, Map::new(), Map::new());
        let mut keys: Vec<(String, f64)> = Vec::new();
        if let Some(period) = next.next_if(|p| p.start == date) {
            for group in &period.groups {
                spend += group.sums.spend;
                if let Some(user) = &group.id {
                    add(&mut users, user, group.sums.spend);
                }
                for b in &group.breakdown {
                    add(&mut models, &b.model_group, b.sums.spend);
                    if let Some(key) = &b.key_hash {
                        match keys.iter_mut().find(|(k, _)| k == key) {
                            Some((_, s)) => *s += b.sums.spend,
                            None => keys.push((key.clone(), b.sums.spend)),
                        }
                    }
                }
            }
        }
        entry.insert("spend".into(), json!(usd(spend)));
        entry.insert("users".into(), Value::Object(users));
        entry.insert("models".into(), Value::Object(models));
        for (key, s) in keys {
            entry.insert(key, json!(usd(s)));
        }
        out.push(Value::Object(entry));
    }
    Value::Array(out)
}

fn add(map: &mut Map<String, Value>, name: &str, spend: f64) {
    let before = map.get(name).and_then(Value::as_f64).unwrap_or(0.0);
    map.insert(name.to_string(), json!(usd(before + spend)));
}

/// `/global/spend/report`: one object per period with the groups under
/// LiteLLM's list name (`teams`, `customers`; ours for the other
/// groupings), each with `total_spend` and a `metadata` breakdown per
/// model and key. A day period carries LiteLLM's `group_by_day`.
pub fn global_report(periods: &[Period], by: GroupBy, monthly: bool) -> Value {
    let list = match by {
        GroupBy::Team => "teams",
        GroupBy::Customer => "customers",
        GroupBy::Key => "keys",
        GroupBy::User => "users",
        GroupBy::Model => "models",
        GroupBy::Tag => "tags",
    };
    let out: Vec<Value> = periods
        .iter()
        .map(|p| {
            let mut entry = Map::new();
            if !monthly {
                let stamp = format!("{}T00:00:00+00:00", dates::format_date(p.start));
                entry.insert("group_by_day".into(), json!(stamp));
            }
            entry.insert("period".into(), json!(p.label));
            let groups = p.groups.iter().map(|g| group_json(g, by)).collect();
            entry.insert(list.into(), Value::Array(groups));
            Value::Object(entry)
        })
        .collect();
    Value::Array(out)
}

/// One group of a period: its name, its sums, and their breakdown.
fn group_json(g: &Group, by: GroupBy) -> Value {
    let mut entry = Map::new();
    match by {
        // LiteLLM names a team by its alias, and rows of no team
        // "Unassigned Team"; the id is added beside it.
        GroupBy::Team => {
            let name = g.label.as_deref().or(g.id.as_deref());
            entry.insert("team_name".into(), json!(name.unwrap_or("Unassigned Team")));
            entry.insert("team_id".into(), json!(g.id));
        }
        GroupBy::Customer => {
            entry.insert("customer".into(), json!(g.id));
        }
        GroupBy::Key => {
            entry.insert("api_key".into(), json!(g.id));
            entry.insert("key_alias".into(), json!(g.label));
        }
        GroupBy::User => {
            entry.insert("user_id".into(), json!(g.id));
        }
        GroupBy::Model => {
            entry.insert("model".into(), json!(g.id));
        }
        GroupBy::Tag => {
            entry.insert("tag".into(), json!(g.id));
        }
    }
    let s = &g.sums;
    entry.insert("total_spend".into(), json!(usd(s.spend)));
    entry.insert("total_tokens".into(), json!(s.total_tokens));
    entry.insert("prompt_tokens".into(), json!(s.prompt_tokens));
    entry.insert("completion_tokens".into(), json!(s.completion_tokens));
    entry.insert("requests".into(), json!(s.requests));
    let metadata = g
        .breakdown
        .iter()
        .map(|b| {
            json!({
                "model": b.model_group,
                "api_key": b.key_hash,
                "spend": usd(b.sums.spend),
                "total_tokens": b.sums.total_tokens,
                "requests": b.sums.requests,
            })
        })
        .collect();
    entry.insert("metadata".into(), Value::Array(metadata));
    Value::Object(entry)
}
