//! `/key/generate`, `/key/update` and `/key/regenerate`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::Value;

use super::{apply, chosen_or_new, masked, token_of};
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::api::management::access::{self, Need};
use crate::api::management::fields::Fields;
use crate::api::management::{db, not_found, views};
use crate::auth::hash_key;
use crate::store::accounts::keys::{self, KeyRow};
use crate::store::accounts::{is_unique_violation, now};

/// Fields that change a key's settings (everything `apply` reads).
const SETTINGS: &[&str] = &[
    "key_alias",
    "duration",
    "budget_duration",
    "user_id",
    "team_id",
    "models",
    "aliases",
    "max_budget",
    "soft_budget",
    "tpm_limit",
    "rpm_limit",
    "max_parallel_requests",
    "model_rpm_limit",
    "model_tpm_limit",
    "model_max_budget",
    "metadata",
    "tags",
    "allowed_routes",
    "blocked",
    "data_class",
    "guardrails",
];

pub async fn generate(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/key/generate")?;
    let f = Fields::parse(&body)?;
    let now = now();
    let plaintext = chosen_or_new(&f, "key")?;
    let mut k = KeyRow {
        token_hash: hash_key(&plaintext),
        key_name: masked(&plaintext),
        created_at: now,
        updated_at: now,
        ..KeyRow::default()
    };
    apply(&gw, &f, &mut k, now).await?;
    keys::insert(&gw.store.pool, &k).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::param("key", "A key with this value or key_alias exists already.")
        } else {
            db(e)
        }
    })?;
    gw.accounts.put_key(k.clone());
    Ok(Json(views::new_key(&k, &plaintext)))
}

pub async fn update(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/key/update")?;
    let f = Fields::parse(&body)?;
    let token = token_of(&f.required_string("key")?);
    let k = change_settings(&gw, &f, &token).await?;
    let mut shown = views::key(&k);
    shown["key"] = Value::String(k.token_hash.clone());
    Ok(Json(shown))
}

/// `POST /key/regenerate` with `key` in the body.
pub async fn regenerate(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/key/regenerate")?;
    let f = Fields::parse(&body)?;
    let token = token_of(&f.required_string("key")?);
    regenerate_token(&gw, &f, &token).await
}

/// `POST /key/{key}/regenerate`, LiteLLM's other spelling.
pub async fn regenerate_path(
    State(gw): State<Arc<Gateway>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/key/regenerate")?;
    let f = Fields::parse(&body)?;
    regenerate_token(&gw, &f, &token_of(&key)).await
}

/// The same key (settings, spend, owner) under a new secret; the old one
/// stops working at once here and within a refresh on other instances.
/// Settings sent along are applied first, as LiteLLM allows.
async fn regenerate_token(gw: &Gateway, f: &Fields, token: &str) -> Result<Json<Value>, ApiError> {
    change_settings(gw, f, token).await?;
    let plaintext = chosen_or_new(f, "new_key")?;
    let new_hash = hash_key(&plaintext);
    let replaced =
        keys::replace_token(&gw.store.pool, token, &new_hash, &masked(&plaintext), now())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    ApiError::param("new_key", "A key with this value exists already.")
                } else {
                    db(e)
                }
            })?;
    if !replaced {
        return Err(missing(token));
    }
    gw.accounts.remove_keys(&[token.to_string()]);
    let k = reread(gw, &new_hash).await?;
    Ok(Json(views::new_key(&k, &plaintext)))
}

/// Applies the settings `f` sends to the key, database first, then the
/// registry; returns the key as stored.
async fn change_settings(gw: &Gateway, f: &Fields, token: &str) -> Result<KeyRow, ApiError> {
    let mut k = keys::get(&gw.store.pool, token)
        .await
        .map_err(db)?
        .ok_or_else(|| missing(token))?;
    if !SETTINGS.iter().any(|s| f.has(s)) {
        return Ok(k);
    }
    let now = now();
    let budget_restarts = apply(gw, f, &mut k, now).await?;
    k.updated_at = now;
    if !keys::update(&gw.store.pool, &k).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::param("key_alias", "Another key has this key_alias.")
        } else {
            db(e)
        }
    })? {
        return Err(missing(token));
    }
    if budget_restarts {
        keys::set_budget_reset_at(&gw.store.pool, token, k.budget_reset_at, now)
            .await
            .map_err(db)?;
    }
    reread(gw, token).await
}

/// The key as stored now (with its current spend), put in the registry.
async fn reread(gw: &Gateway, token: &str) -> Result<KeyRow, ApiError> {
    let k = keys::get(&gw.store.pool, token)
        .await
        .map_err(db)?
        .ok_or_else(|| missing(token))?;
    gw.accounts.put_key(k.clone());
    Ok(k)
}

pub fn missing(token: &str) -> ApiError {
    not_found("key", format!("No key with token {token:?} exists."))
}
