//! The server secret behind the keyed hashes of prompts and responses
//! (`compliance.audit_secret` or `SWITCHYARD_AUDIT_SECRET`; the caller
//! reads the config). A keyed hash, not a plain one: a plain SHA-256 of a
//! short prompt could be confirmed by guessing; without the secret it
//! cannot, while whoever holds it can prove what a record's prompt was.

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Clone)]
pub struct AuditSecret(Vec<u8>);

impl AuditSecret {
    pub fn new(secret: impl Into<Vec<u8>>) -> AuditSecret {
        AuditSecret(secret.into())
    }

    /// HMAC-SHA-256 of `text` (its UTF-8 bytes), as lowercase hex.
    pub fn hmac_hex(&self, text: &str) -> String {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(text.as_bytes());
        super::chain::hex(&mac.finalize().into_bytes())
    }
}

/// Never print the secret.
impl std::fmt::Debug for AuditSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditSecret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_test_case_2() {
        let secret = AuditSecret::new(b"Jefe".to_vec());
        assert_eq!(
            secret.hmac_hex("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
