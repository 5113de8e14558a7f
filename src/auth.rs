//! Who is calling: the master key, a virtual key (looked up by the SHA-256
//! of what was presented, in the in-memory registry), or nobody when no
//! master key is configured and the gateway is open.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};

use crate::accounts::{self, Accounts, KeyEntry, Refusal, UserRole};
use crate::api::error::ApiError;
use crate::store::accounts::now;

#[derive(Clone, Debug)]
pub enum Principal {
    /// Holds the master key.
    Admin,
    /// No master key is configured, so the gateway is open (as LiteLLM is)
    /// and virtual keys are not looked at.
    Anonymous,
    /// A virtual key that may be used now, with its team and user.
    Key(Arc<KeyEntry>),
}

/// Two principals are the same caller: the same kind, and for keys the
/// same key.
impl PartialEq for Principal {
    fn eq(&self, other: &Principal) -> bool {
        match (self, other) {
            (Principal::Admin, Principal::Admin) => true,
            (Principal::Anonymous, Principal::Anonymous) => true,
            (Principal::Key(a), Principal::Key(b)) => a.token_hash() == b.token_hash(),
            _ => false,
        }
    }
}

impl Principal {
    /// The caller's role on the management API: the master key is an
    /// admin; a key has its user's role, if it has a user.
    pub fn role(&self) -> Option<UserRole> {
        match self {
            Principal::Admin => Some(UserRole::ProxyAdmin),
            Principal::Anonymous => None,
            Principal::Key(entry) => entry.role(),
        }
    }

    /// The virtual key, when the caller used one.
    pub fn key(&self) -> Option<&Arc<KeyEntry>> {
        match self {
            Principal::Key(entry) => Some(entry),
            _ => None,
        }
    }
}

/// The master key, kept only as its SHA-256 so that comparing it takes the
/// same time whatever the caller sent, and the registry of virtual keys.
pub struct Authenticator {
    master_key_hash: Option<[u8; 32]>,
    accounts: Arc<Accounts>,
}

impl Authenticator {
    pub fn new(master_key: Option<&str>, accounts: Arc<Accounts>) -> Self {
        Authenticator {
            master_key_hash: master_key.map(|k| Sha256::digest(k.as_bytes()).into()),
            accounts,
        }
    }

    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let Some(master) = &self.master_key_hash else {
            return Ok(Principal::Anonymous);
        };
        let Some(presented) = presented_key(headers) else {
            return Err(ApiError::unauthorized(
                "No API key provided. Send it as 'Authorization: Bearer <key>', 'api-key' or 'x-api-key'.",
            ));
        };
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if digest == *master {
            return Ok(Principal::Admin);
        }
        let Some(entry) = self.accounts.key(&hex(&digest)) else {
            return Err(ApiError::unauthorized("Invalid API key provided."));
        };
        match entry.refusal(now()) {
            None => Ok(Principal::Key(entry)),
            Some(Refusal::KeyBlocked) => Err(ApiError::unauthorized(
                "This API key is blocked. An admin can unblock it with /key/unblock.",
            )
            .with_code("key_blocked")),
            Some(Refusal::TeamBlocked) => Err(ApiError::unauthorized(
                "This API key's team is blocked. An admin can unblock it with /team/unblock.",
            )
            .with_code("team_blocked")),
            Some(Refusal::Expired(at)) => Err(ApiError::unauthorized(format!(
                "This API key expired at {}.",
                accounts::format_time(at)
            ))
            .with_code("key_expired")),
        }
    }
}

/// The hex SHA-256 of a plaintext key: how keys are stored and looked up.
pub fn hash_key(plaintext: &str) -> String {
    hex(&Sha256::digest(plaintext.as_bytes()).into())
}

/// Lower-case hex, written directly: this runs on every request made with a
/// virtual key.
fn hex(digest: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// The key from `Authorization: Bearer`, `api-key` or `x-api-key`.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::accounts::keys::KeyRow;

    fn bearer(key: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, format!("Bearer {key}").parse().unwrap());
        h
    }

    fn with_key(row: KeyRow) -> Authenticator {
        let accounts = Arc::new(Accounts::new());
        accounts.put_key(row);
        Authenticator::new(Some("sk-master"), accounts)
    }

    #[test]
    fn the_hash_is_hex_sha256() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn master_key_virtual_key_and_unknown_key() {
        let auth = with_key(KeyRow {
            token_hash: hash_key("sk-virtual"),
            ..KeyRow::default()
        });
        assert_eq!(
            auth.authenticate(&bearer("sk-master")).unwrap(),
            Principal::Admin
        );
        let p = auth.authenticate(&bearer("sk-virtual")).unwrap();
        assert_eq!(p.key().unwrap().token_hash(), hash_key("sk-virtual"));
        assert_eq!(p.role(), None);
        let e = auth.authenticate(&bearer("sk-other")).unwrap_err();
        assert_eq!(e.status, 401);
        assert!(auth.authenticate(&HeaderMap::new()).is_err());
    }

    #[test]
    fn blocked_and_expired_keys_are_refused_with_a_reason() {
        let auth = with_key(KeyRow {
            token_hash: hash_key("sk-blocked"),
            blocked: true,
            ..KeyRow::default()
        });
        let e = auth.authenticate(&bearer("sk-blocked")).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code.as_deref()),
            (401, Some("key_blocked"))
        );

        let auth = with_key(KeyRow {
            token_hash: hash_key("sk-old"),
            expires_at: Some(1_700_000_000),
            ..KeyRow::default()
        });
        let e = auth.authenticate(&bearer("sk-old")).unwrap_err();
        assert_eq!(e.status, 401);
        assert!(
            e.message.contains("expired at 2023-11-14T22:13:20Z"),
            "{}",
            e.message
        );
    }

    #[test]
    fn without_a_master_key_everyone_is_anonymous() {
        let auth = Authenticator::new(None, Arc::new(Accounts::new()));
        assert_eq!(
            auth.authenticate(&bearer("anything")).unwrap(),
            Principal::Anonymous
        );
        assert_eq!(
            auth.authenticate(&HeaderMap::new()).unwrap(),
            Principal::Anonymous
        );
    }
}
