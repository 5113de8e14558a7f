//! Who is calling. Today: the master key (or nobody, when none is set).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};

use crate::api::error::ApiError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// Holds the master key.
    Admin,
    /// No master key is configured, so the gateway is open (as LiteLLM is).
    Anonymous,
}

/// The master key, kept only as its SHA-256 so that comparing it takes the
/// same time whatever the caller sent.
pub struct Authenticator {
    master_key_hash: Option<[u8; 32]>,
}

impl Authenticator {
    pub fn new(master_key: Option<&str>) -> Self {
        Authenticator {
            master_key_hash: master_key.map(hash),
        }
    }

    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let Some(expected) = &self.master_key_hash else {
            return Ok(Principal::Anonymous);
        };
        let Some(presented) = presented_key(headers) else {
            return Err(ApiError::unauthorized(
                "No API key provided. Send it as 'Authorization: Bearer <key>', 'api-key' or 'x-api-key'.",
            ));
        };
        if hash(presented) == *expected {
            Ok(Principal::Admin)
        } else {
            Err(ApiError::unauthorized("Invalid API key provided."))
        }
    }
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The key from `Authorization: Bearer`, `api-key` or `x-api-key`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        let key = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .unwrap_or(v)
            .trim();
        if !key.is_empty() {
            return Some(key);
        }
    }
    ["api-key", "x-api-key"].iter().find_map(|name| {
        headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|k| !k.is_empty())
    })
}
