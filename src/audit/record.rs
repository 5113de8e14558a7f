//! What the audit log holds. The request path hands an [`AuditEntry`] (with
//! the prompt and response text, so that the keyed hashes are computed off
//! the path, in the writer); the writer turns it into an [`AuditRecord`],
//! the row as stored and hashed: JSON fields kept as the exact text that
//! went into the hash, so that a verifier never depends on how a JSON
//! library re-serialises them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::secret::AuditSecret;

/// What a record is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    #[default]
    Request,
    AdminAction,
    ConfigLoad,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Request => "request",
            AuditKind::AdminAction => "admin_action",
            AuditKind::ConfigLoad => "config_load",
        }
    }
}

/// One deployment the router tried for a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub deployment_id: String,
    pub region: Option<String>,
    /// e.g. `success`, `rate_limited`, `timeout`: the error class.
    pub outcome: String,
}

/// One event to record, as the request path (or the admin API, or the
/// config loader) knows it.
#[derive(Clone, Debug, Default)]
pub struct AuditEntry {
    /// Unix milliseconds (UTC).
    pub time_ms: i64,
    pub kind: AuditKind,
    pub request_id: Option<String>,
    /// SHA-256 of the virtual key, as in the spend log.
    pub key_hash: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub caller_addr: Option<String>,
    pub data_class: Option<String>,
    /// How the class was decided (free text or JSON text).
    pub data_class_reason: Option<String>,
    /// Guardrail outcomes; `null` when none ran.
    pub guardrails: Value,
    pub model_group: Option<String>,
    pub attempts: Vec<Attempt>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost: f64,
    /// Hashed with the server secret, never stored as is unless
    /// `store_plaintext` says the data class allows it.
    pub prompt: Option<String>,
    pub response: Option<String>,
    /// `compliance.store_plaintext_up_to` admits this request's class.
    pub store_plaintext: bool,
}

/// One row of `sy_audit`: what is hashed, field by field, in this order
/// (see `chain::canonical` and docs/audit.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub time_ms: i64,
    pub kind: String,
    pub request_id: Option<String>,
    pub key_hash: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub caller_addr: Option<String>,
    pub data_class: Option<String>,
    pub data_class_reason: Option<String>,
    /// JSON text.
    pub guardrails: String,
    pub model_group: Option<String>,
    /// JSON text: a list of [`Attempt`].
    pub attempts: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// In JSON (the export), the decimal text that is hashed.
    #[serde(with = "cost_as_text")]
    pub cost: f64,
    /// HMAC-SHA-256 (hex) of the prompt text under the server secret.
    pub prompt_hmac: Option<String>,
    pub response_hmac: Option<String>,
    pub prompt_plaintext: Option<String>,
    pub response_plaintext: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The record for `entry`, not yet chained (seq 0, no hashes).
    pub fn from_entry(entry: AuditEntry, secret: &AuditSecret) -> AuditRecord {
        let keep = entry.store_plaintext;
        AuditRecord {
            seq: 0,
            time_ms: entry.time_ms,
            kind: entry.kind.as_str().to_string(),
            request_id: entry.request_id,
            key_hash: entry.key_hash,
            user_id: entry.user_id,
            team_id: entry.team_id,
            caller_addr: entry.caller_addr,
            data_class: entry.data_class,
            data_class_reason: entry.data_class_reason,
            guardrails: entry.guardrails.to_string(),
            model_group: entry.model_group,
            // A list of plain structs always serialises.
            attempts: serde_json::to_string(&entry.attempts).unwrap_or_else(|_| "[]".into()),
            prompt_tokens: entry.prompt_tokens,
            completion_tokens: entry.completion_tokens,
            // NaN or infinity would fail the whole batch on SQLite (stored
            // as NULL) and could not be written as a decimal: count it as 0.
            cost: if entry.cost.is_finite() {
                entry.cost
            } else {
                0.0
            },
            prompt_hmac: entry.prompt.as_deref().map(|t| secret.hmac_hex(t)),
            response_hmac: entry.response.as_deref().map(|t| secret.hmac_hex(t)),
            prompt_plaintext: entry.prompt.filter(|_| keep),
            response_plaintext: entry.response.filter(|_| keep),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }
}

/// `cost` in JSON as the text `chain::cost_text` hashes, so that an
/// auditor hashes what they read without re-formatting a float.
mod cost_as_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(cost: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::audit::chain::cost_text(*cost))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_kept_only_when_allowed_and_always_hashed() {
        let secret = AuditSecret::new(b"s3cret".to_vec());
        let entry = AuditEntry {
            kind: AuditKind::AdminAction,
            prompt: Some("hello".into()),
            response: Some("world".into()),
            attempts: vec![Attempt {
                deployment_id: "eu-1".into(),
                region: Some("eu".into()),
                outcome: "success".into(),
            }],
            ..AuditEntry::default()
        };
        let hidden = AuditRecord::from_entry(entry.clone(), &secret);
        assert_eq!(hidden.kind, "admin_action");
        assert_eq!(hidden.prompt_plaintext, None);
        assert_eq!(hidden.prompt_hmac, Some(secret.hmac_hex("hello")));
        assert_ne!(hidden.prompt_hmac, hidden.response_hmac);
        assert_eq!(
            hidden.attempts,
            r#"[{"deployment_id":"eu-1","region":"eu","outcome":"success"}]"#
        );
        assert_eq!(hidden.guardrails, "null");
        let nan = AuditEntry {
            cost: f64::NAN,
            ..AuditEntry::default()
        };
        assert_eq!(AuditRecord::from_entry(nan, &secret).cost, 0.0);
        let shown = AuditRecord::from_entry(
            AuditEntry {
                store_plaintext: true,
                ..entry
            },
            &secret,
        );
        assert_eq!(shown.prompt_plaintext.as_deref(), Some("hello"));
        assert_eq!(shown.response_plaintext.as_deref(), Some("world"));
    }
}
