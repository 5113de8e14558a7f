//! The one-sentence, human-readable form of an alert: Slack's `text` and
//! the generic webhook's `event_message`.
//!
//! "Budget alert: key sk-...abcd (billing-app) has spent $0.81 of its $1.00
//! budget (81 %)."

use super::context::{AlertContext, masked_key};
use crate::limits::{Alert, AlertKind, BudgetScope};

pub fn sentence(alert: &Alert, context: &AlertContext) -> String {
    let who = subject(&alert.scope, context);
    let spent = dollars(alert.spent);
    let limit = dollars(alert.limit);
    let share = percent(alert.spent, alert.limit);
    match alert.kind {
        AlertKind::Threshold(_) => {
            format!("Budget alert: {who} has spent {spent} of its {limit} budget{share}.")
        }
        AlertKind::Soft => format!(
            "Soft budget reached: {who} has spent {spent} of its {limit} soft budget{share}. \
             Requests are still served."
        ),
        AlertKind::Exceeded => format!(
            "Budget exceeded: {who} has spent {spent} of its {limit} budget{share}. \
             Further requests are refused until the budget resets or is raised."
        ),
    }
}

/// Who spent, by the most readable name the context has; ids are kept
/// beside aliases so that two teams called "Marketing" stay apart.
fn subject(scope: &BudgetScope, context: &AlertContext) -> String {
    match scope {
        BudgetScope::Key(hash) => format!("key {}", key_label(hash, context)),
        BudgetScope::ModelPerKey { key, model } => {
            format!("model {model} through key {}", key_label(key, context))
        }
        BudgetScope::User(id) => {
            let email = context
                .user_email
                .as_deref()
                .filter(|_| context.user_id.as_deref() == Some(id));
            match email {
                Some(email) => format!("user {id} ({email})"),
                None => format!("user {id}"),
            }
        }
        BudgetScope::Team(id) => {
            let alias = context
                .team_alias
                .as_deref()
                .filter(|_| context.team_id.as_deref() == Some(id));
            match alias {
                Some(alias) => format!("team {alias} ({id})"),
                None => format!("team {id}"),
            }
        }
        BudgetScope::EndUser(id) => format!("end user {id}"),
        BudgetScope::Tag(tag) => format!("tag {tag}"),
    }
}

/// `sk-...abcd (alias)`; without a `key_name`, the start of the hash
/// (enough to find the key, never enough to use it).
fn key_label(hash: &str, context: &AlertContext) -> String {
    let same_key = context.key_hash.as_deref().is_none_or(|h| h == hash);
    let name = context.key_name.as_deref().filter(|_| same_key);
    let mut label = match name {
        Some(name) => masked_key(name),
        None => format!("with hash {}", hash.chars().take(12).collect::<String>()),
    };
    if let Some(alias) = context.key_alias.as_deref().filter(|_| same_key) {
        label.push_str(&format!(" ({alias})"));
    }
    label
}

/// Cents for ordinary budgets; small budgets (tests, per-model limits of a
/// few cents) keep the digits that tell spend and limit apart.
fn dollars(amount: f64) -> String {
    if amount == 0.0 || amount.abs() >= 0.1 {
        return format!("${amount:.2}");
    }
    let precise = format!("{amount:.6}");
    format!("${}", precise.trim_end_matches('0'))
}

fn percent(spent: f64, limit: f64) -> String {
    if limit > 0.0 {
        format!(" ({:.0} %)", spent / limit * 100.0)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(scope: BudgetScope, kind: AlertKind, spent: f64, limit: f64) -> Alert {
        Alert {
            scope,
            kind,
            spent,
            limit,
        }
    }

    fn keyed() -> AlertContext {
        AlertContext {
            key_hash: Some("3f2a9c01b2c4d5e6".into()),
            key_name: Some("sk-...abcd".into()),
            key_alias: Some("billing-app".into()),
            team_id: Some("t-1".into()),
            team_alias: Some("Marketing".into()),
            ..AlertContext::default()
        }
    }

    #[test]
    fn threshold_names_the_key_by_its_masked_name_and_alias() {
        let a = alert(
            BudgetScope::Key("3f2a9c01b2c4d5e6".into()),
            AlertKind::Threshold(0.8),
            0.81,
            1.0,
        );
        assert_eq!(
            sentence(&a, &keyed()),
            "Budget alert: key sk-...abcd (billing-app) has spent $0.81 of its $1.00 budget (81 %)."
        );
        let bare = sentence(&a, &AlertContext::default());
        assert!(
            bare.contains("key with hash 3f2a9c01b2c4 has spent"),
            "{bare}"
        );
    }

    #[test]
    fn soft_and_exceeded_say_what_happens_to_requests() {
        let team = BudgetScope::Team("t-1".into());
        let soft = sentence(&alert(team.clone(), AlertKind::Soft, 55.0, 50.0), &keyed());
        assert_eq!(
            soft,
            "Soft budget reached: team Marketing (t-1) has spent $55.00 of its $50.00 soft budget (110 %). Requests are still served."
        );
        let over = sentence(&alert(team, AlertKind::Exceeded, 100.2, 100.0), &keyed());
        assert!(over.starts_with("Budget exceeded: team Marketing (t-1) has spent $100.20 of its $100.00 budget (100 %). Further requests are refused"), "{over}");
    }

    #[test]
    fn other_scopes_and_small_amounts() {
        let per_model = BudgetScope::ModelPerKey {
            key: "3f2a9c01b2c4d5e6".into(),
            model: "gpt-4o".into(),
        };
        let text = sentence(
            &alert(per_model, AlertKind::Exceeded, 0.0052, 0.005),
            &keyed(),
        );
        assert!(text.starts_with("Budget exceeded: model gpt-4o through key sk-...abcd (billing-app) has spent $0.0052 of its $0.005 budget (104 %)."), "{text}");
        let tag = sentence(
            &alert(BudgetScope::Tag("prod".into()), AlertKind::Soft, 1.0, 0.0),
            &keyed(),
        );
        assert_eq!(
            tag,
            "Soft budget reached: tag prod has spent $1.00 of its $0.00 soft budget. Requests are still served."
        );
        let other_team = sentence(
            &alert(BudgetScope::Team("t-2".into()), AlertKind::Soft, 1.0, 2.0),
            &keyed(),
        );
        assert!(other_team.contains("team t-2 has spent"), "{other_team}");
    }
}
