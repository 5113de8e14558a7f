//! Alerts raised by the real budget ledger and posted to both destinations:
//! one post per crossing, per destination, per period.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use switchyard::accounts::format_time;
use switchyard::alerts::{AlertCounters, Alerter};
use switchyard::limits::{BudgetLimit, BudgetScope, Budgets, Period};

use super::hook::Hook;
use super::{KEY_HASH, context, fast, settings};
use crate::support;

fn both(hook: &Hook) -> Alerter {
    let settings = settings(Some(hook.url("/slack")), Some(hook.url("/generic")));
    Alerter::with_options(&settings, support::client(), fast())
}

fn key() -> BudgetScope {
    BudgetScope::Key(KEY_HASH.into())
}

/// Spends `cost` (reserved as its own worst case) and sends the alerts.
fn spend(budgets: &Budgets, alerter: &Alerter, scopes: &[(BudgetScope, BudgetLimit)], cost: f64) {
    let alerts = budgets.reserve(scopes, cost).unwrap().settle(cost);
    alerter.send_settled(alerts, &context(), budgets);
}

#[tokio::test]
async fn each_level_crossed_is_posted_once_to_each_destination() {
    let hook = Hook::ok().await;
    let alerter = both(&hook);
    let budgets = Budgets::new(0.8);
    let key_limit = BudgetLimit {
        max_budget: Some(1.0),
        soft_budget: Some(0.5),
        period: None,
    };
    let team_limit = BudgetLimit {
        max_budget: Some(1.25),
        ..BudgetLimit::default()
    };
    let scopes = [
        (key(), key_limit),
        (BudgetScope::Team("t-1".into()), team_limit),
    ];
    // Spend 0.25, 0.5 (soft), 0.8125 (threshold), 0.875, 1.0 (exceeded;
    // the team's 80 % of 1.25).
    for cost in [0.25, 0.25, 0.3125, 0.0625, 0.125] {
        spend(&budgets, &alerter, &scopes, cost);
    }
    assert!(budgets.reserve(&scopes, 0.01).is_err());

    let counters = alerter.flush().await;
    let expected = AlertCounters {
        queued: 0,
        delivered: 8,
        failed: 0,
        dropped: 0,
    };
    assert_eq!(counters, expected);
    let texts: Vec<Value> = hook
        .bodies("/slack")
        .into_iter()
        .map(|b| b["text"].clone())
        .collect();
    assert_eq!(
        texts,
        [
            "Soft budget reached: key sk-...abcd (billing-app) has spent $0.50 of its $0.50 soft budget (100 %). Requests are still served.",
            "Budget alert: key sk-...abcd (billing-app) has spent $0.81 of its $1.00 budget (81 %).",
            "Budget exceeded: key sk-...abcd (billing-app) has spent $1.00 of its $1.00 budget (100 %). Further requests are refused until the budget resets or is raised.",
            "Budget alert: team Marketing (t-1) has spent $1.00 of its $1.25 budget (80 %).",
        ]
    );
    let events: Vec<(Value, Value, Value)> = hook
        .bodies("/generic")
        .into_iter()
        .map(|b| (b["event"].clone(), b["scope"].clone(), b["spend"].clone()))
        .collect();
    assert_eq!(
        events,
        [
            (json!("soft_budget_crossed"), json!("key"), json!(0.5)),
            (json!("threshold_crossed"), json!("key"), json!(0.8125)),
            (json!("budget_crossed"), json!("key"), json!(1.0)),
            (json!("threshold_crossed"), json!("team"), json!(1.0)),
        ]
    );
}

#[tokio::test]
async fn the_generic_body_follows_litellm_and_never_holds_the_key() {
    let hook = Hook::ok().await;
    let alerter = both(&hook);
    let budgets = Budgets::default();
    let limit = BudgetLimit {
        max_budget: Some(1.0),
        ..BudgetLimit::default()
    };
    let mut context = context();
    // A caller that passes the plaintext by mistake still sends it masked.
    context.key_name = Some("sk-Zq81plaintextsecretvalue9f3c".into());
    let alerts = budgets
        .reserve(&[(key(), limit)], 0.9)
        .unwrap()
        .settle(0.86);
    assert_eq!(alerts.len(), 1);
    alerter.send_settled(alerts, &context, &budgets);
    alerter.flush().await;

    let received = hook.received();
    assert_eq!(received.len(), 2);
    for post in &received {
        assert_eq!(post.content_type.as_deref(), Some("application/json"));
        assert!(
            !post.body.to_string().contains("plaintext"),
            "{}",
            post.body
        );
    }
    let slack = &hook.bodies("/slack")[0];
    assert_eq!(
        slack,
        &json!({"text": "Budget alert: key sk-...9f3c (billing-app) has spent $0.86 of its $1.00 budget (86 %)."})
    );
    let mut generic = hook.bodies("/generic")[0].clone();
    let timestamp = generic["timestamp"].take();
    assert!(
        timestamp.as_str().is_some_and(|t| t.ends_with('Z')),
        "{timestamp}"
    );
    assert_eq!(
        generic,
        json!({
            "event": "threshold_crossed",
            "event_group": "key",
            "event_message": slack["text"],
            "scope": "key",
            "id": KEY_HASH,
            "model": null,
            "spend": 0.86,
            "max_budget": 1.0,
            "soft_budget": null,
            "threshold": 0.8,
            "token": KEY_HASH,
            "key_name": "sk-...9f3c",
            "key_alias": "billing-app",
            "user_id": "ana",
            "user_email": null,
            "team_id": "t-1",
            "team_alias": "Marketing",
            "customer_id": null,
            "period_start": null,
            "timestamp": null,
        })
    );
}

/// Sleeps into the next whole second and returns it, so that what follows
/// has almost a second before any boundary.
async fn fresh_second() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let next = now.as_secs() + 1;
    tokio::time::sleep(Duration::from_secs(next) - now + Duration::from_millis(20)).await;
    next
}

#[tokio::test]
async fn a_new_period_alerts_again() {
    let hook = Hook::ok().await;
    let alerter = both(&hook);
    let budgets = Budgets::default();
    let limit = BudgetLimit {
        max_budget: Some(1.0),
        soft_budget: None,
        period: Some(Period::parse("2s").unwrap()),
    };
    let scopes = [(key(), limit)];
    let start = fresh_second().await;
    budgets.set_spent(&key(), 0.0, Some(start));

    spend(&budgets, &alerter, &scopes, 0.875);
    spend(&budgets, &alerter, &scopes, 0.0625);
    // The period ends at start + 2 and spend goes back to 0.
    let wait =
        Duration::from_secs(start + 2) - SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    spend(&budgets, &alerter, &scopes, 0.875);
    alerter.flush().await;

    let generic = hook.bodies("/generic");
    let seen: Vec<(Value, Value, Value)> = generic
        .iter()
        .map(|b| {
            (
                b["event"].clone(),
                b["spend"].clone(),
                b["period_start"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                json!("threshold_crossed"),
                json!(0.875),
                json!(format_time(start as i64))
            ),
            (
                json!("threshold_crossed"),
                json!(0.875),
                json!(format_time(start as i64 + 2))
            ),
        ]
    );
    assert_eq!(hook.bodies("/slack").len(), 2);
}
