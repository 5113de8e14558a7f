//! `/key/info` and `/key/list`, read from the database so that `spend` is
//! the latest the spend writer has flushed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::token_of;
use super::write::missing;
use crate::api::Gateway;
use crate::api::error::ApiError;
use crate::api::management::access::{self, Need};
use crate::api::management::{db, page_param, views};
use crate::store::accounts::keys::{self, KeyFilter};

/// `GET /key/info?key=`: LiteLLM's `{"key", "info"}`, with `key` the
/// token (hash). Without `key`, the caller's own key; a key may always
/// read its own info.
pub async fn info(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let principal = gw.auth.authenticate(&headers)?;
    let own = principal.key().map(|e| e.token_hash().to_string());
    let token = match q.get("key").filter(|k| !k.trim().is_empty()) {
        Some(key) => token_of(key),
        None => own
            .clone()
            .ok_or_else(|| ApiError::param("key", "key is required."))?,
    };
    if !access::views_all(&principal) && own.as_deref() != Some(token.as_str()) {
        return Err(access::forbidden(&principal, "/key/info"));
    }
    let k = keys::get(&gw.store.pool, &token)
        .await
        .map_err(db)?
        .ok_or_else(|| missing(&token))?;
    Ok(Json(json!({"key": k.token_hash, "info": views::key(&k)})))
}

/// `GET /key/list?user_id=&team_id=&key_alias=&page=&size=&return_full_object=`:
/// tokens (hashes), or whole keys with `return_full_object=true`, a page
/// at a time (newest first).
pub async fn list(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    access::caller(&gw, &headers, Need::View, "/key/list")?;
    let page = page_param(&q, "page", 1, u64::MAX)?;
    let size = page_param(&q, "size", 10, 100)?;
    let full = match q.get("return_full_object").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::param(
                "return_full_object",
                "return_full_object must be true or false.",
            ));
        }
    };
    let filter = KeyFilter {
        user_id: q.get("user_id").cloned(),
        team_id: q.get("team_id").cloned(),
        key_alias: q.get("key_alias").cloned(),
    };
    let offset = (page - 1).saturating_mul(size);
    let (rows, total) = keys::list(&gw.store.pool, &filter, offset, size)
        .await
        .map_err(db)?;
    let shown: Vec<Value> = rows
        .iter()
        .map(|k| {
            if full {
                views::key(k)
            } else {
                Value::String(k.token_hash.clone())
            }
        })
        .collect();
    Ok(Json(json!({
        "keys": shown,
        "total_count": total,
        "current_page": page,
        "total_pages": total.div_ceil(size),
    })))
}
