//! The two bodies an alert is posted as.
//!
//! - Slack (and anything that takes Slack's incoming-webhook format, such
//!   as Discord's `/slack` URLs and Mattermost): `{"text": "…"}`.
//! - Generic JSON: LiteLLM's `WebhookEvent` fields (`spend`, `max_budget`,
//!   `soft_budget`, `token`, `key_alias`, `user_id`, `team_id`, `event`,
//!   `event_group`, `event_message`, …), so that receivers written for
//!   LiteLLM keep working, plus ours: `scope`, `id`, `model`, `threshold`,
//!   `period_start` and `timestamp`. Described in docs/alerts.md.

use serde_json::{Value, json};

use super::context::{AlertContext, masked_key};
use super::message::sentence;
use crate::accounts::format_time;
use crate::limits::{Alert, AlertKind, BudgetScope};

/// Which body a destination takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Slack,
    Generic,
}

/// An alert as it was raised, waiting to be posted.
#[derive(Clone, Debug)]
pub(super) struct Raised {
    pub alert: Alert,
    pub context: AlertContext,
    /// When it was raised (unix seconds), not when it is delivered.
    pub at: u64,
}

pub(super) fn body(format: Format, raised: &Raised) -> Vec<u8> {
    let value = match format {
        Format::Slack => json!({ "text": sentence(&raised.alert, &raised.context) }),
        Format::Generic => generic(raised),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// LiteLLM's event names: `threshold_crossed`, `soft_budget_crossed`, and
/// `budget_crossed` for spend that reached `max_budget`.
fn event(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Threshold(_) => "threshold_crossed",
        AlertKind::Soft => "soft_budget_crossed",
        AlertKind::Exceeded => "budget_crossed",
    }
}

/// Our scope name, its id, LiteLLM's entity type (`event_group`), and the
/// model of a per-model budget.
fn scope_fields(scope: &BudgetScope) -> (&'static str, &str, &'static str, Option<&str>) {
    match scope {
        BudgetScope::Key(id) => ("key", id, "key", None),
        BudgetScope::User(id) => ("user", id, "user", None),
        BudgetScope::Team(id) => ("team", id, "team", None),
        BudgetScope::EndUser(id) => ("end_user", id, "end_user", None),
        BudgetScope::Tag(id) => ("tag", id, "tag", None),
        // A key's budget for one model is the key's, as LiteLLM groups it.
        BudgetScope::ModelPerKey { key, model } => ("model_per_key", key, "key", Some(model)),
    }
}

fn generic(raised: &Raised) -> Value {
    let Raised { alert, context, at } = raised;
    let (scope, id, group, model) = scope_fields(&alert.scope);
    // The key this scope belongs to, else the key of the request.
    let token = match &alert.scope {
        BudgetScope::Key(hash) | BudgetScope::ModelPerKey { key: hash, .. } => Some(hash.as_ref()),
        _ => context.key_hash.as_deref(),
    };
    let (max_budget, soft_budget) = match alert.kind {
        AlertKind::Soft => (None, Some(alert.limit)),
        _ => (Some(alert.limit), None),
    };
    let threshold = match alert.kind {
        AlertKind::Threshold(fraction) => Some(fraction),
        _ => None,
    };
    json!({
        "event": event(alert.kind),
        "event_group": group,
        "event_message": sentence(alert, context),
        "scope": scope,
        "id": id,
        "model": model,
        "spend": alert.spent,
        "max_budget": max_budget,
        "soft_budget": soft_budget,
        "threshold": threshold,
        "token": token,
        "key_name": context.key_name.as_deref().map(masked_key),
        "key_alias": context.key_alias,
        "user_id": context.user_id,
        "user_email": context.user_email,
        "team_id": context.team_id,
        "team_alias": context.team_alias,
        "customer_id": context.end_user_id,
        "period_start": context.period_start.map(|s| format_time(s as i64)),
        "timestamp": format_time(*at as i64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raised(scope: BudgetScope, kind: AlertKind, limit: f64) -> Raised {
        Raised {
            alert: Alert {
                scope,
                kind,
                spent: 0.85,
                limit,
            },
            context: AlertContext {
                key_hash: Some("hash-of-key".into()),
                key_name: Some("sk-plaintextplaintext9876".into()),
                team_id: Some("t-1".into()),
                period_start: Some(1_795_219_200),
                ..AlertContext::default()
            },
            at: 1_795_219_260,
        }
    }

    fn parsed(format: Format, r: &Raised) -> Value {
        serde_json::from_slice(&body(format, r)).unwrap()
    }

    #[test]
    fn slack_is_a_text_object() {
        let r = raised(
            BudgetScope::Key("hash-of-key".into()),
            AlertKind::Threshold(0.8),
            1.0,
        );
        let value = parsed(Format::Slack, &r);
        assert_eq!(value.as_object().unwrap().len(), 1);
        assert_eq!(
            value["text"],
            "Budget alert: key sk-...9876 has spent $0.85 of its $1.00 budget (85 %)."
        );
    }

    #[test]
    fn generic_follows_litellm_webhook_event() {
        let r = raised(
            BudgetScope::Team("t-1".into()),
            AlertKind::Threshold(0.8),
            1.0,
        );
        let value = parsed(Format::Generic, &r);
        assert_eq!(value["event"], "threshold_crossed");
        assert_eq!(value["event_group"], "team");
        assert_eq!(value["scope"], "team");
        assert_eq!(value["id"], "t-1");
        assert_eq!(value["spend"], 0.85);
        assert_eq!(value["max_budget"], 1.0);
        assert_eq!(value["soft_budget"], Value::Null);
        assert_eq!(value["threshold"], 0.8);
        assert_eq!(value["token"], "hash-of-key");
        assert_eq!(value["key_name"], "sk-...9876");
        assert_eq!(value["period_start"], "2026-11-21T00:00:00Z");
        assert_eq!(value["timestamp"], "2026-11-21T00:01:00Z");
        assert!(!value.to_string().contains("plaintext"));
    }

    #[test]
    fn soft_and_exceeded_events_and_per_model_scopes() {
        let soft = parsed(
            Format::Generic,
            &raised(BudgetScope::EndUser("c".into()), AlertKind::Soft, 0.5),
        );
        assert_eq!(
            (
                &soft["event"],
                &soft["event_group"],
                &soft["soft_budget"],
                &soft["max_budget"]
            ),
            (
                &json!("soft_budget_crossed"),
                &json!("end_user"),
                &json!(0.5),
                &Value::Null
            )
        );
        let scope = BudgetScope::ModelPerKey {
            key: "other-hash".into(),
            model: "gpt-4o".into(),
        };
        let over = parsed(Format::Generic, &raised(scope, AlertKind::Exceeded, 0.8));
        assert_eq!(over["event"], "budget_crossed");
        assert_eq!(
            (
                &over["scope"],
                &over["event_group"],
                &over["id"],
                &over["model"],
                &over["token"]
            ),
            (
                &json!("model_per_key"),
                &json!("key"),
                &json!("other-hash"),
                &json!("gpt-4o"),
                &json!("other-hash")
            )
        );
        assert_eq!(over["threshold"], Value::Null);
    }
}
