//! `compliance.audit`: whether every request, admin action and
//! configuration load is recorded in the tamper-evident audit log, with
//! which secret its prompt and response hashes are keyed, where its anchors
//! go, and up to which data class plaintext may be kept.
//!
//! ```yaml
//! compliance:
//!   audit:
//!     enabled: true
//!     secret: os.environ/SWITCHYARD_AUDIT_SECRET
//!     anchor_file: /var/lib/switchyard/anchors.jsonl
//!     anchor_every_records: 1000
//!     store_plaintext_up_to: internal     # default: none
//! ```

use std::path::PathBuf;

use super::Secret;
use super::compliance::Compliance;
use super::diag::Findings;
use super::env::Env;
use super::values::{flag, number, resolved_string, string};
use super::yaml::Node;

#[derive(Clone, Debug)]
pub struct AuditSettings {
    pub secret: Secret,
    pub anchor_file: Option<PathBuf>,
    pub anchor_every_records: u64,
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
    Some(AuditSettings {
        secret: Secret(secret),
        anchor_file: node
            .get("anchor_file")
            .and_then(|n| string(n, &path("anchor_file"), f))
            .map(PathBuf::from),
        anchor_every_records: node
            .get("anchor_every_records")
            .and_then(number)
            .map_or(1000, |v| v.max(1.0) as u64),
        store_plaintext_up_to,
    })
}
