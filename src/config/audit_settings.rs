//! `compliance.audit`: whether every request, admin action and
//! configuration load is recorded in the tamper-evident audit log, with
//! which secret its prompt and response hashes are keyed, where and how
//! often its anchors go, and up to which data class plaintext may be kept.
//!
//! ```yaml
//! compliance:
//!   audit:
//!     enabled: true
//!     secret: os.environ/SWITCHYARD_AUDIT_SECRET
//!     anchor_file: /var/lib/switchyard/anchors.jsonl
//!     anchor_webhook: os.environ/SWITCHYARD_ANCHOR_WEBHOOK  # each anchor POSTed as JSON
//!     anchor_every_records: 1000
//!     anchor_every: 5m                    # also by time: 30s, 5m, 1h or seconds
//!     store_plaintext_up_to: internal     # default: none
//! ```

use std::path::PathBuf;
use std::time::Duration;

use super::Secret;
use super::compliance::Compliance;
use super::diag::Findings;
use super::env::Env;
use super::values::{flag, number, resolved_string, string};
use super::yaml::{Kind, Node};
use crate::limits::Period;

#[derive(Clone, Debug)]
pub struct AuditSettings {
    pub secret: Secret,
    pub anchor_file: Option<PathBuf>,
    /// An http(s) URL each anchor is POSTed to; a credential (kept out of
    /// messages and debug output).
    pub anchor_webhook: Option<Secret>,
    pub anchor_every_records: u64,
    /// Anchor at least this often while records arrive (None: by count only).
    pub anchor_every: Option<Duration>,
    /// Plaintext is kept for classes up to this one (none: never).
    pub store_plaintext_up_to: Option<usize>,
}

pub(super) fn audit_settings(
    root: &Node,
    compliance: &Compliance,
    env: &Env,
    f: &mut Findings,
) -> Option<AuditSettings> {
    let node = root.get("compliance")?.get("audit")?;
    let path = |k: &str| format!("compliance.audit.{k}");
    let enabled = node
        .get("enabled")
        .and_then(|n| flag(n, &path("enabled"), f))
        .unwrap_or(true);
    if !enabled {
        return None;
    }
    let secret = match node.get("secret") {
        Some(n) => resolved_string(n, &path("secret"), env, f),
        None => env.get("SWITCHYARD_AUDIT_SECRET"),
    };
    let Some(secret) = secret.filter(|s| s.len() >= 16) else {
        f.error(
            node.line,
            &path("secret"),
            "the audit log needs a secret of at least 16 characters (or SWITCHYARD_AUDIT_SECRET) to key its hashes",
        );
        return None;
    };
    let store_plaintext_up_to = node.get("store_plaintext_up_to").and_then(|n| {
        let name = string(n, &path("store_plaintext_up_to"), f)?;
        let found = compliance.class_index(&name);
        if found.is_none() {
            f.error(
                n.line,
                &path("store_plaintext_up_to"),
                format!("{name:?} is not a data class"),
            );
        }
        found
    });
    let anchor_every_records = match node.get("anchor_every_records") {
        None => 1000,
        Some(n) => match number(n) {
            Some(v) if v >= 1.0 => v as u64,
            _ => {
                f.error(
                    n.line,
                    &path("anchor_every_records"),
                    "must be a whole number of at least 1",
                );
                1000
            }
        },
    };
    Some(AuditSettings {
        secret: Secret(secret),
        anchor_file: node
            .get("anchor_file")
            .and_then(|n| string(n, &path("anchor_file"), f))
            .map(PathBuf::from),
        anchor_webhook: node
            .get("anchor_webhook")
            .and_then(|n| webhook(n, &path("anchor_webhook"), env, f)),
        anchor_every_records,
        anchor_every: node
            .get("anchor_every")
            .and_then(|n| duration(n, &path("anchor_every"), f)),
        store_plaintext_up_to,
    })
}

/// An http(s) URL, possibly `os.environ/NAME`. The value is never repeated
/// in a message: a webhook URL often carries its credential.
fn webhook(node: &Node, key: &str, env: &Env, f: &mut Findings) -> Option<Secret> {
    let value = resolved_string(node, key, env, f)?;
    let value = value.trim();
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            Some(Secret(value.to_string()))
        }
        _ => {
            f.error(node.line, key, "must be an http(s) URL");
            None
        }
    }
}

/// A positive duration: a number of seconds, or a whole number with `s`,
/// `m`, `h`, `d` or `w` (as `budget_duration` spells them; not `mo`).
fn duration(node: &Node, key: &str, f: &mut Findings) -> Option<Duration> {
    let parsed = match &node.kind {
        Kind::Scalar(text, _) if !node.is_null() => match number(node) {
            Some(s) if s > 0.0 => Duration::try_from_secs_f64(s).ok(),
            Some(_) => None,
            None => match Period::parse(text) {
                Ok(Period::Seconds(s)) => Some(Duration::from_secs(s)),
                _ => None,
            },
        },
        _ => None,
    };
    if parsed.is_none() {
        f.error(
            node.line,
            key,
            "must be a duration such as 30s, 5m or 1h, or a positive number of seconds",
        );
    }
    parsed
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;

    const HEAD: &str = "compliance:\n  audit:\n    secret: audit-secret-for-tests-only\n";

    fn audit(extra: &str) -> Result<crate::config::AuditSettings, String> {
        load_str(&format!("{HEAD}{extra}"), "a.yaml")
            .map(|l| l.config.audit.expect("audit is on"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn anchor_every_takes_seconds_or_a_unit() {
        for (text, secs) in [
            ("30", 30.0),
            ("0.5", 0.5),
            ("30s", 30.0),
            ("5m", 300.0),
            ("1h", 3600.0),
        ] {
            let a = audit(&format!("    anchor_every: {text}\n")).unwrap();
            assert_eq!(
                a.anchor_every.map(|d| d.as_secs_f64()),
                Some(secs),
                "{text}"
            );
        }
        assert_eq!(audit("").unwrap().anchor_every, None);
    }

    #[test]
    fn bad_anchor_settings_name_file_line_and_key() {
        for bad in ["soon", "0", "-3", "1mo", "5x", "1e400", "[1]"] {
            let e = audit(&format!("    anchor_every: {bad}\n")).unwrap_err();
            assert!(
                e.contains("a.yaml:4: compliance.audit.anchor_every: must be a duration"),
                "{bad}: {e}"
            );
        }
        let e = audit("    anchor_webhook: ftp://hooks.test/secret-token\n").unwrap_err();
        assert!(
            e.contains("a.yaml:4: compliance.audit.anchor_webhook: must be an http(s) URL"),
            "{e}"
        );
        assert!(!e.contains("secret-token"), "{e}");
        let e = audit("    anchor_every_records: many\n").unwrap_err();
        assert!(
            e.contains("a.yaml:4: compliance.audit.anchor_every_records:"),
            "{e}"
        );
    }

    #[test]
    fn the_webhook_may_come_from_the_environment() {
        let a = audit("    anchor_webhook: https://anchors.test/in\n").unwrap();
        assert_eq!(
            a.anchor_webhook.unwrap().expose(),
            "https://anchors.test/in"
        );
        let e = audit("    anchor_webhook: os.environ/SWITCHYARD_TEST_SURELY_UNSET\n").unwrap_err();
        assert!(e.contains("SWITCHYARD_TEST_SURELY_UNSET is not set"), "{e}");
    }
}
