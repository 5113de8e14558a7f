//! `general_settings` for alerts, read from a config file: errors name
//! file, line and key; URLs may come from the environment.

use serde_json::json;
use switchyard::alerts::{AlertCounters, Alerter};
use switchyard::config::{Secret, load_str};
use switchyard::limits::{Alert, AlertKind, BudgetScope};

use super::hook::Hook;
use super::{context, fast};
use crate::support;

#[test]
fn errors_name_file_line_and_key() {
    let yaml = "\
general_settings:
  alerting: [\"slack\", \"webhook\"]
  webhook_url: hooks.example.com/budget
  budget_alert_threshold: 80
  alert_types: budget_alerts
environment_variables:
  SLACK_WEBHOOK_URL: not a url
";
    let errors = load_str(yaml, "alerts.yaml")
        .err()
        .expect("the config is invalid");
    let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "alerts.yaml:2: general_settings.alerting: environment variable SLACK_WEBHOOK_URL must hold an http(s) URL",
            "alerts.yaml:3: general_settings.webhook_url: must be an http(s) URL",
            "alerts.yaml:4: general_settings.budget_alert_threshold: must be a fraction of max_budget above 0 and at most 1 (0.8 = 80 %)",
            "alerts.yaml:5: general_settings.alert_types: must be a list of alert types, e.g. [\"budget_alerts\"]",
        ]
    );
    // A webhook URL is a credential: never repeated in a message.
    assert!(!errors.to_string().contains("hooks.example.com"));

    let yaml = "general_settings:\n  alerting: slack\n";
    let errors = load_str(yaml, "alerts.yaml").err().unwrap().to_string();
    assert!(
        errors.contains("alerts.yaml:2: general_settings.alerting: must be a list of destinations"),
        "{errors}"
    );
}

#[test]
fn unsent_settings_are_warnings() {
    let yaml = "\
general_settings:
  alerting: [\"email\"]
  slack_webhook_url: https://hooks.slack.test/services/T/B/x
  alerting_threshold: 300
";
    let loaded = load_str(yaml, "alerts.yaml").unwrap();
    assert!(!loaded.config.alerts.enabled());
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "alerts.yaml:2: general_settings.alerting: \"email\" is accepted, but not acted on yet (budget alerts go to \"slack\" and \"webhook\")",
            "alerts.yaml:3: general_settings.slack_webhook_url: set, but \"slack\" is not in general_settings.alerting: no Slack alerts are sent",
            "alerts.yaml:4: general_settings.alerting_threshold: accepted, but not acted on yet",
        ]
    );
}

#[tokio::test]
async fn urls_from_the_environment_reach_the_receivers() {
    let hook = Hook::ok().await;
    let yaml = format!(
        "\
general_settings:
  alerting: [slack, webhook]
  alert_types: [budget_alerts]
  budget_alert_threshold: 0.5
environment_variables:
  SLACK_WEBHOOK_URL: {}
  WEBHOOK_URL: {}
",
        hook.url("/services/T0/B0/secret"),
        hook.url("/budget")
    );
    let settings = load_str(&yaml, "alerts.yaml").unwrap().config.alerts;
    assert_eq!(settings.webhook_url, Some(Secret(hook.url("/budget"))));
    assert_eq!(settings.budget_alert_threshold, 0.5);
    let alerter = Alerter::with_options(&settings, support::client(), fast());
    let alert = Alert {
        scope: BudgetScope::Team("t-1".into()),
        kind: AlertKind::Threshold(0.5),
        spent: 5.0,
        limit: 10.0,
    };
    alerter.send(alert, context());
    let expected = AlertCounters {
        delivered: 2,
        ..AlertCounters::default()
    };
    assert_eq!(alerter.flush().await, expected);
    let text = "Budget alert: team Marketing (t-1) has spent $5.00 of its $10.00 budget (50 %).";
    assert_eq!(
        hook.bodies("/services/T0/B0/secret"),
        [json!({ "text": text })]
    );
    assert_eq!(hook.bodies("/budget")[0]["event_group"], "team");
}
