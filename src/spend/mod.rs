//! Spend logs and reports: one row per request in `sy_spend_logs`, written
//! off the request path in batches by the [`SpendWriter`], and read back by
//! `/spend/logs`, `/global/spend/report` and `switchyard report`.
//! See docs/spend.md.

mod batch;
pub mod dates;
pub mod filter;
pub mod monthly;
pub mod queries;
pub mod record;
pub mod report;
pub mod wire;
mod writer;

use sha2::{Digest, Sha256};

pub use dates::Month;
pub use filter::LogFilter;
pub use monthly::ReportFormat;
pub use record::{CallType, SpendRecord, SpendStatus};
pub use report::{Granularity, GroupBy};
pub use writer::{SpendCounters, SpendWriter, WriterOptions};

/// How a virtual key appears in the log: the SHA-256 of the key, in hex.
pub fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An `api_key` query parameter as LiteLLM reads it: a plaintext key
/// (`sk-…`) is hashed, anything else is taken as a hash already.
pub fn key_hash_param(api_key: &str) -> String {
    if api_key.starts_with("sk-") {
        key_hash(api_key)
    } else {
        api_key.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hash_to_sha256_hex_and_hashes_pass_through() {
        // sha256("sk-1234"), as LiteLLM stores it.
        let h = key_hash("sk-1234");
        assert_eq!(
            h,
            "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
        );
        assert_eq!(key_hash_param("sk-1234"), h);
        assert_eq!(key_hash_param(&h), h);
    }
}
