//! `/key/*`: virtual keys. `sk-` and random; only the SHA-256 is stored,
//! and the plaintext is shown once, by `/key/generate` or
//! `/key/regenerate`. Routes that name a key take the plaintext or the
//! hash (`token`).

pub mod read;
pub mod state;
pub mod write;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::fields::{Fields, take};
use super::{db, lookups};
use crate::accounts::allows_model;
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::auth::hash_key;
use crate::config::Secret;
use crate::store::accounts::keys::{self, KeyRow};

/// The token (hash) a route's `key` names: a plaintext key is hashed, a
/// hash is taken as it is.
pub fn token_of(key: &str) -> String {
    let key = key.trim();
    if key.starts_with("sk-") {
        hash_key(key)
    } else {
        key.to_string()
    }
}

/// A new plaintext key: `sk-` and 32 random bytes, URL-safe base64. The
/// bytes come from UUIDv4s, which draw from the operating system's secure
/// generator (fastrand, used elsewhere, is not meant for secrets).
pub fn new_plaintext() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("sk-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A plaintext the caller chose (`key` on generate, `new_key` on
/// regenerate), else a new random one.
pub fn chosen_or_new(f: &Fields, param: &str) -> Result<String, ApiError> {
    match f.string(param)? {
        None => Ok(new_plaintext()),
        Some(k) if k.starts_with("sk-") && k.len() >= 8 && !k.contains(char::is_whitespace) => {
            Ok(k)
        }
        Some(_) => Err(ApiError::param(
            param,
            format!("{param} must start with 'sk-', be at least 8 characters and have no spaces."),
        )),
    }
}

/// `sk-...abcd`: enough to tell keys apart, too little to use one.
pub fn masked(plaintext: &str) -> String {
    Secret(plaintext.to_string()).masked()
}

/// Applies the settings a request sends to a key (LiteLLM's fields), and
/// checks them against the key's team; creates its user if there is none
/// yet (as LiteLLM does). Returns whether `budget_duration` was sent,
/// which restarts the budget period.
pub async fn apply(gw: &Gateway, f: &Fields, k: &mut KeyRow, now: i64) -> Result<bool, ApiError> {
    if f.has("key_alias") {
        k.key_alias = f.string("key_alias")?;
        if let Some(alias) = &k.key_alias {
            let holder = keys::get_by_alias(&gw.store.pool, alias)
                .await
                .map_err(db)?;
            if holder.is_some_and(|other| other.token_hash != k.token_hash) {
                return Err(ApiError::param(
                    "key_alias",
                    format!("key_alias {alias:?} is already used by another key."),
                ));
            }
        }
    }
    if let Some(expires_at) = f.expiry("duration", now)? {
        k.expires_at = expires_at;
    }
    let budget_restarts = match f.budget_duration(now)? {
        Some(period) => {
            k.budget_duration = period.duration;
            k.budget_reset_at = period.reset_at;
            true
        }
        None => false,
    };
    take!(f, k, user_id, string);
    take!(f, k, team_id, string);
    take!(f, k, models, strings, default);
    take!(f, k, aliases, object, default);
    take!(f, k, max_budget, money);
    take!(f, k, soft_budget, money);
    take!(f, k, tpm_limit, count);
    take!(f, k, rpm_limit, count);
    take!(f, k, max_parallel_requests, count);
    take!(f, k, model_rpm_limit, model_limits);
    take!(f, k, model_tpm_limit, model_limits);
    take!(f, k, model_max_budget, object);
    take!(f, k, metadata, object, default);
    take!(f, k, tags, strings, default);
    take!(f, k, allowed_routes, strings, default);
    take!(f, k, blocked, bool, default);
    take!(f, k, data_class, string);
    take!(f, k, guardrails, strings, default);

    if let Some(team_id) = &k.team_id {
        let team = lookups::team_or_400(gw, team_id, "team_id").await?;
        // LiteLLM: a key of a team that restricts models may only name
        // models the team has.
        if let Some(model) = k.models.iter().find(|m| !allows_model(&team.models, m)) {
            return Err(ApiError::param(
                "models",
                format!(
                    "Model {model:?} is not allowed for team {team_id:?}; the team's models are {:?}.",
                    team.models
                ),
            ));
        }
    }
    if let Some(user_id) = &k.user_id {
        lookups::ensure_user(gw, user_id, now).await?;
    }
    Ok(budget_restarts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_long_random_and_distinct() {
        let (a, b) = (new_plaintext(), new_plaintext());
        assert!(a.starts_with("sk-") && a.len() == 3 + 43, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_plaintext_is_hashed_and_a_hash_is_kept() {
        assert_eq!(token_of("sk-abc"), hash_key("sk-abc"));
        assert_eq!(token_of(&hash_key("sk-abc")), hash_key("sk-abc"));
    }

    #[test]
    fn the_mask_keeps_the_prefix_and_last_four() {
        assert_eq!(masked("sk-abcdefghijkl"), "sk-...ijkl");
    }
}
