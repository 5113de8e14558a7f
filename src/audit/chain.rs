//! The hash chain. Each record's `hash` is the SHA-256 of its canonical
//! serialisation, which includes `prev_hash`, the hash of the record before
//! (64 zeros for the first). The recipe is in docs/audit.md, for auditors
//! who recompute it with their own tools:
//!
//! canonical = the compact JSON array (no spaces; strings escaped as JSON
//! requires, non-ASCII as raw UTF-8) of
//! `["switchyard-audit-v1", seq, time_ms, kind, request_id, key_hash,
//! user_id, team_id, caller_addr, data_class, data_class_reason, guardrails,
//! model_group, attempts, prompt_tokens, completion_tokens, cost,
//! prompt_hmac, response_hmac, prompt_plaintext, response_plaintext,
//! prev_hash]`, absent values as `null`, `guardrails` and `attempts` as the
//! JSON text stored (a string), and `cost` as a string: the shortest decimal
//! that reads back as the same 64-bit float, without exponent.
//! hash = lowercase hex of SHA-256(canonical as UTF-8).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::record::AuditRecord;

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names the recipe, so that a future change of it cannot be mistaken for
/// tampering (nor tampering for a new recipe).
const RECIPE: &str = "switchyard-audit-v1";

/// The chain's head: the last record's sequence number and hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    /// Before the first record.
    pub fn genesis() -> Head {
        Head {
            seq: 0,
            hash: GENESIS.to_string(),
        }
    }
}

/// `cost` as hashed: Rust's `Display` for `f64` is the shortest decimal
/// that round-trips, and never uses an exponent.
pub fn cost_text(cost: f64) -> String {
    format!("{cost}")
}

/// The bytes that are hashed (as text).
pub fn canonical(r: &AuditRecord) -> String {
    let fields: [Value; 22] = [
        json!(RECIPE),
        json!(r.seq),
        json!(r.time_ms),
        json!(r.kind),
        json!(r.request_id),
        json!(r.key_hash),
        json!(r.user_id),
        json!(r.team_id),
        json!(r.caller_addr),
        json!(r.data_class),
        json!(r.data_class_reason),
        json!(r.guardrails),
        json!(r.model_group),
        json!(r.attempts),
        json!(r.prompt_tokens),
        json!(r.completion_tokens),
        json!(cost_text(r.cost)),
        json!(r.prompt_hmac),
        json!(r.response_hmac),
        json!(r.prompt_plaintext),
        json!(r.response_plaintext),
        json!(r.prev_hash),
    ];
    Value::Array(fields.into()).to_string()
}

/// The hash `r` should carry, given its fields and `prev_hash`.
pub fn hash_of(r: &AuditRecord) -> String {
    hex(&Sha256::digest(canonical(r).as_bytes()))
}

/// Chains `records` onto `head`, in order: numbers them, links each to the
/// one before and seals it. Returns the new head.
pub fn seal(head: &Head, records: &mut [AuditRecord]) -> Head {
    let mut head = head.clone();
    for r in records {
        r.seq = head.seq + 1;
        r.prev_hash = std::mem::take(&mut head.hash);
        r.hash = hash_of(r);
        head = Head {
            seq: r.seq,
            hash: r.hash.clone(),
        };
    }
    head
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::AuditEntry;
    use crate::audit::secret::AuditSecret;

    fn record(cost: f64) -> AuditRecord {
        let entry = AuditEntry {
            time_ms: 1_795_000_000_000,
            user_id: Some("zoë \"q\"\n".into()),
            cost,
            ..AuditEntry::default()
        };
        AuditRecord::from_entry(entry, &AuditSecret::new(b"k".to_vec()))
    }

    #[test]
    fn the_canonical_form_is_the_documented_array() {
        let mut r = record(0.0000001);
        seal(&Head::genesis(), std::slice::from_mut(&mut r));
        assert_eq!(
            canonical(&r),
            format!(
                r#"["switchyard-audit-v1",1,1795000000000,"request",null,null,"zoë \"q\"\n",null,null,null,null,"null",null,"[]",0,0,"0.0000001",null,null,null,null,"{GENESIS}"]"#
            )
        );
        assert_eq!(r.hash, hex(&Sha256::digest(canonical(&r).as_bytes())));
    }

    #[test]
    fn seal_numbers_and_links_in_order() {
        let mut rs = vec![record(1.5), record(2.0), record(0.25)];
        let head = seal(&Head::genesis(), &mut rs);
        assert_eq!(head.seq, 3);
        assert_eq!(head.hash, rs[2].hash);
        assert_eq!(rs[0].prev_hash, GENESIS);
        assert_eq!(rs[1].prev_hash, rs[0].hash);
        assert_eq!(rs[2].prev_hash, rs[1].hash);
        assert_eq!(rs.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
        // Every field counts: a changed cost changes the hash.
        let mut changed = rs[1].clone();
        changed.cost = 2.01;
        assert_ne!(hash_of(&changed), rs[1].hash);
    }
}
