//! `/key/delete`, `/key/block` and `/key/unblock`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Value, json};

use super::token_of;
use super::write::missing;
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::api::management::access::{self, Need};
use crate::api::management::fields::Fields;
use crate::api::management::{db, not_found, views};
use crate::store::accounts::keys;
use crate::store::accounts::now;

/// `{"keys": [...]}` and/or `{"key_aliases": [...]}`; all or nothing: one
/// unknown key is a 404 and nothing is deleted. Answers LiteLLM's
/// `{"deleted_keys": [...]}` with the tokens (hashes), never plaintexts.
pub async fn delete(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/key/delete")?;
    let f = Fields::parse(&body)?;
    let named = f.ids("keys")?.unwrap_or_default();
    let aliases = f.ids("key_aliases")?.unwrap_or_default();
    if named.is_empty() && aliases.is_empty() {
        return Err(ApiError::param("keys", "keys or key_aliases is required."));
    }
    let pool = &gw.store.pool;
    let mut tokens = Vec::new();
    for key in &named {
        let token = token_of(key);
        if keys::get(pool, &token).await.map_err(db)?.is_none() {
            return Err(missing(&token));
        }
        if !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    for alias in &aliases {
        match keys::get_by_alias(pool, alias).await.map_err(db)? {
            Some(k) if tokens.contains(&k.token_hash) => {}
            Some(k) => tokens.push(k.token_hash),
            None => {
                return Err(not_found(
                    "key_aliases",
                    format!("No key has key_alias {alias:?}."),
                ));
            }
        }
    }
    let deleted = keys::delete(pool, &tokens, now()).await.map_err(db)?;
    gw.accounts.remove_keys(&deleted);
    Ok(Json(json!({"deleted_keys": deleted})))
}

pub async fn block(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/key/block")?;
    set_blocked(&gw, &body, true).await
}

pub async fn unblock(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::Change, "/key/unblock")?;
    set_blocked(&gw, &body, false).await
}

async fn set_blocked(gw: &Gateway, body: &Bytes, blocked: bool) -> Result<Json<Value>, ApiError> {
    let f = Fields::parse(body)?;
    let token = token_of(&f.required_string("key")?);
    let pool = &gw.store.pool;
    if !keys::set_blocked(pool, &token, blocked, now())
        .await
        .map_err(db)?
    {
        return Err(missing(&token));
    }
    let k = keys::get(pool, &token)
        .await
        .map_err(db)?
        .ok_or_else(|| missing(&token))?;
    gw.accounts.put_key(k.clone());
    Ok(Json(views::key(&k)))
}
