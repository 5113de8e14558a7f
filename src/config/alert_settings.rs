//! Where budget alerts go, under LiteLLM's names where it has them:
//!
//! - `general_settings.alerting: ["slack", "webhook"]` picks the destinations.
//! - Slack: `general_settings.slack_webhook_url`, else env `SLACK_WEBHOOK_URL`,
//!   else `ALERTING_WEBHOOK_URL` (LiteLLM's provider-neutral fallback).
//! - Generic JSON webhook: `general_settings.webhook_url`, else env `WEBHOOK_URL`.
//! - `general_settings.alert_types`: budget alerts are sent when it is absent
//!   or names `budget_alerts`, as in LiteLLM.
//! - `general_settings.budget_alert_threshold`: the fraction of `max_budget`
//!   that raises the threshold alert (default 0.8). It is ours: LiteLLM's
//!   `alerting_threshold` means seconds before a request counts as hanging.
//!
//! Webhook URLs carry their credentials in the path, so they are `Secret`s
//! and never appear in a message.

use super::Secret;
use super::diag::Findings;
use super::env::Env;
use super::values::{key_line, number, resolved_string, string};
use super::yaml::{Kind, Node};
use crate::limits::DEFAULT_ALERT_THRESHOLD;

const SECTION: &str = "general_settings";

#[derive(Clone, Debug, PartialEq)]
pub struct AlertSettings {
    /// Set when `alerting` names `"slack"`.
    pub slack_webhook_url: Option<Secret>,
    /// Set when `alerting` names `"webhook"`.
    pub webhook_url: Option<Secret>,
    /// False when `alert_types` is given without `budget_alerts`.
    pub budget_alerts: bool,
    /// For `limits::Budgets::new`.
    pub budget_alert_threshold: f64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            slack_webhook_url: None,
            webhook_url: None,
            budget_alerts: true,
            budget_alert_threshold: DEFAULT_ALERT_THRESHOLD,
        }
    }
}

impl AlertSettings {
    /// Whether any budget alert will be sent at all.
    pub fn enabled(&self) -> bool {
        self.budget_alerts && (self.slack_webhook_url.is_some() || self.webhook_url.is_some())
    }
}

/// One destination's names: its word in `alerting`, its own key, and the
/// environment variables read when the key is absent.
struct Destination {
    word: &'static str,
    key: &'static str,
    env: &'static [&'static str],
    label: &'static str,
}

const SLACK: Destination = Destination {
    word: "slack",
    key: "slack_webhook_url",
    env: &["SLACK_WEBHOOK_URL", "ALERTING_WEBHOOK_URL"],
    label: "Slack",
};

const WEBHOOK: Destination = Destination {
    word: "webhook",
    key: "webhook_url",
    env: &["WEBHOOK_URL"],
    label: "webhook",
};

pub(super) fn alert_settings(general: Option<&Node>, env: &Env, f: &mut Findings) -> AlertSettings {
    let general = general.filter(|g| matches!(g.kind, Kind::Map(_)));
    let wanted = alerting(general, f);
    let alerting_line = general.and_then(|g| key_line(g, "alerting")).unwrap_or(0);
    AlertSettings {
        slack_webhook_url: url(general, &SLACK, &wanted, alerting_line, env, f),
        webhook_url: url(general, &WEBHOOK, &wanted, alerting_line, env, f),
        budget_alerts: budget_alerts_wanted(general, f),
        budget_alert_threshold: threshold(general, f),
    }
}

/// The destinations named in `alerting`. LiteLLM's other ones (`email`,
/// …) are accepted with a warning.
fn alerting(general: Option<&Node>, f: &mut Findings) -> Vec<String> {
    let key = format!("{SECTION}.alerting");
    let Some(node) = general.and_then(|g| g.get("alerting")) else {
        return Vec::new();
    };
    let items = match &node.kind {
        _ if node.is_null() => return Vec::new(),
        Kind::Seq(items) => items,
        _ => {
            f.error(
                node.line,
                &key,
                "must be a list of destinations, e.g. [\"slack\", \"webhook\"]",
            );
            return Vec::new();
        }
    };
    let mut wanted = Vec::new();
    for item in items {
        let Some(word) = string(item, &key, f) else {
            continue;
        };
        if word == SLACK.word || word == WEBHOOK.word {
            wanted.push(word);
        } else {
            f.warn(
                item.line,
                &key,
                format!("{word:?} is accepted, but not acted on yet (budget alerts go to \"slack\" and \"webhook\")"),
            );
        }
    }
    wanted
}

/// A destination's URL, when `alerting` names it: its key, else the first
/// of its environment variables that is set. Checked to be http(s).
fn url(
    general: Option<&Node>,
    d: &Destination,
    wanted: &[String],
    alerting_line: usize,
    env: &Env,
    f: &mut Findings,
) -> Option<Secret> {
    let key = format!("{SECTION}.{}", d.key);
    let node = general.and_then(|g| g.get(d.key)).filter(|n| !n.is_null());
    if !wanted.iter().any(|w| w == d.word) {
        if let Some(node) = node {
            let message = format!(
                "set, but {:?} is not in {SECTION}.alerting: no {} alerts are sent",
                d.word, d.label
            );
            f.warn(node.line, &key, message);
        }
        return None;
    }
    // Where a bad value came from: the key's own line, or `alerting`'s.
    let (value, line, at, problem) = match node {
        Some(node) => {
            let value = resolved_string(node, &key, env, f)?;
            (value, node.line, key, "must be an http(s) URL".to_string())
        }
        None => {
            // An empty variable counts as unset, as shells leave them.
            let set = |var: &'static str| {
                let value = env.get(var).filter(|x| !x.trim().is_empty());
                value.map(|value| (var, value))
            };
            let Some((var, value)) = d.env.iter().copied().find_map(set) else {
                let message = format!(
                    "{:?} needs a URL: set {key} or the {} environment variable",
                    d.word, d.env[0]
                );
                f.error(alerting_line, &format!("{SECTION}.alerting"), message);
                return None;
            };
            let at = format!("{SECTION}.alerting");
            let problem = format!("environment variable {var} must hold an http(s) URL");
            (value, alerting_line, at, problem)
        }
    };
    let value = value.trim();
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            Some(Secret(value.to_string()))
        }
        // The value is not repeated: a webhook URL is a credential.
        _ => {
            f.error(line, &at, problem);
            None
        }
    }
}

fn budget_alerts_wanted(general: Option<&Node>, f: &mut Findings) -> bool {
    let key = format!("{SECTION}.alert_types");
    let Some(node) = general.and_then(|g| g.get("alert_types")) else {
        return true;
    };
    let items = match &node.kind {
        _ if node.is_null() => return true,
        Kind::Seq(items) => items,
        _ => {
            f.error(
                node.line,
                &key,
                "must be a list of alert types, e.g. [\"budget_alerts\"]",
            );
            return true;
        }
    };
    let mut budget = false;
    for item in items {
        match string(item, &key, f).as_deref() {
            Some("budget_alerts") => budget = true,
            Some(other) => f.warn(
                item.line,
                &key,
                format!("{other:?} is accepted, but not sent yet (only \"budget_alerts\" is)"),
            ),
            None => {}
        }
    }
    budget
}

fn threshold(general: Option<&Node>, f: &mut Findings) -> f64 {
    let Some(node) = general
        .and_then(|g| g.get("budget_alert_threshold"))
        .filter(|n| !n.is_null())
    else {
        return DEFAULT_ALERT_THRESHOLD;
    };
    match number(node) {
        Some(v) if v > 0.0 && v <= 1.0 => v,
        _ => {
            f.error(
                node.line,
                &format!("{SECTION}.budget_alert_threshold"),
                "must be a fraction of max_budget above 0 and at most 1 (0.8 = 80 %)",
            );
            DEFAULT_ALERT_THRESHOLD
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::build::build;

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<AlertSettings, Vec<String>> {
        let owned: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| {
            owned
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        build(yaml, "c.yaml", &lookup)
            .map(|l| l.config.alerts)
            .map_err(|e| e.0.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn nothing_configured_sends_nothing_and_keeps_80_percent() {
        let settings = load(
            "model_list: []\n",
            &[("SLACK_WEBHOOK_URL", "https://x.test/a")],
        )
        .unwrap();
        assert_eq!(settings, AlertSettings::default());
        assert!(!settings.enabled());
    }

    #[test]
    fn urls_come_from_the_process_environment_when_the_keys_are_absent() {
        let yaml = "general_settings:\n  alerting: [\"slack\", \"webhook\"]\n";
        let env = [
            ("ALERTING_WEBHOOK_URL", "https://fallback.test/a"),
            ("WEBHOOK_URL", "http://hooks.test/budget"),
        ];
        let settings = load(yaml, &env).unwrap();
        assert_eq!(
            settings.slack_webhook_url,
            Some(Secret("https://fallback.test/a".into()))
        );
        assert_eq!(
            settings.webhook_url,
            Some(Secret("http://hooks.test/budget".into()))
        );
        let env = [
            ("SLACK_WEBHOOK_URL", "https://slack.test/s"),
            env[0],
            env[1],
        ];
        let settings = load(yaml, &env).unwrap();
        assert_eq!(
            settings.slack_webhook_url,
            Some(Secret("https://slack.test/s".into()))
        );
    }

    #[test]
    fn keys_win_over_the_environment_and_may_reference_it() {
        let yaml = "general_settings:\n  alerting: [webhook]\n  webhook_url: os.environ/MY_HOOK\n";
        let env = [
            ("MY_HOOK", "https://mine.test/h"),
            ("WEBHOOK_URL", "https://other.test/"),
        ];
        let settings = load(yaml, &env).unwrap();
        assert_eq!(
            settings.webhook_url,
            Some(Secret("https://mine.test/h".into()))
        );
        assert!(settings.enabled());
    }

    #[test]
    fn a_missing_or_bad_url_is_an_error_that_does_not_print_the_url() {
        let yaml = "general_settings:\n  alerting: [\"slack\"]\n";
        let errors = load(yaml, &[]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("c.yaml:2: general_settings.alerting: \"slack\" needs a URL"),
            "{errors:?}"
        );
        let errors = load(yaml, &[("SLACK_WEBHOOK_URL", "ftp://secret-token")]).unwrap_err();
        assert_eq!(
            errors,
            vec![
                "c.yaml:2: general_settings.alerting: environment variable SLACK_WEBHOOK_URL must hold an http(s) URL"
            ]
        );
        let yaml = "general_settings:\n  alerting: [webhook]\n  webhook_url: not a url\n";
        let errors = load(yaml, &[]).unwrap_err();
        assert_eq!(
            errors,
            vec!["c.yaml:3: general_settings.webhook_url: must be an http(s) URL"]
        );
    }

    #[test]
    fn alert_types_without_budget_alerts_turn_them_off() {
        let yaml = "general_settings:\n  alerting: [webhook]\n  webhook_url: https://h.test/\n  alert_types: [\"llm_exceptions\"]\n";
        let settings = load(yaml, &[]).unwrap();
        assert!(!settings.budget_alerts);
        assert!(!settings.enabled());
    }

    #[test]
    fn the_threshold_must_be_a_fraction() {
        let ok = load("general_settings:\n  budget_alert_threshold: 0.5\n", &[]).unwrap();
        assert_eq!(ok.budget_alert_threshold, 0.5);
        for bad in ["80", "0", "-0.1", "high"] {
            let yaml = format!("general_settings:\n  budget_alert_threshold: {bad}\n");
            let errors = load(&yaml, &[]).unwrap_err();
            assert!(
                errors[0].starts_with(
                    "c.yaml:2: general_settings.budget_alert_threshold: must be a fraction"
                ),
                "{bad}: {errors:?}"
            );
        }
    }
}
