//! Admin-action records: every management call that changes something
//! (the POST routes but `/budget/info`) leaves one `admin_action` record in
//! the audit log, whether it succeeded or was refused. Those routes are
//! added with [`AuditedRoutes::audited_post`] instead of `route(path,
//! post(handler))`: it wraps the route's handler (the management routes
//! are built before the gateway exists, so a layer could not hold it; the
//! handler's own state reaches the wrapper). With the audit log off it
//! only checks that and calls the handler.
//!
//! With it on, before the handler: the caller (authenticated here, since
//! the call may delete the very key or user it was made with) and its
//! address; the body, read up to [`MAX_RECORDED_BYTES`] and handed on byte
//! for byte. After it: the status, and the error type or the key hash the
//! answer names. The record maps onto the request columns:
//! `model_group` is the route, `prompt` the body as JSON with every secret
//! field replaced by `sha256:` and the key hash, `response` a small JSON
//! outcome. Neither holds a secret, so both are kept in plaintext (and,
//! as always, HMAC'd). See docs/audit.md.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router as Routes;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request, State};
use axum::handler::Handler;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::MethodRouter;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};

use crate::api::Gateway;
use crate::audit::{AuditEntry, AuditKind};
use crate::auth::{Principal, hash_key, presented_key};

/// Bodies up to this size are recorded (management bodies are far
/// smaller); a larger one is handed on untouched and recorded as
/// `{"truncated":true}`.
pub const MAX_RECORDED_BYTES: usize = 1 << 20;

/// Fields whose values are secrets, or name keys by their secret: at any
/// depth, every string (or number) in them is replaced by its key hash.
const SECRET_FIELDS: &[&str] = &["key", "keys", "token", "new_key", "api_key", "master_key"];

/// `.route(path, post(handler))`, with an admin-action record per call.
pub trait AuditedRoutes {
    fn audited_post<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<Gateway>>,
        T: 'static;
}

impl AuditedRoutes for Routes<Arc<Gateway>> {
    fn audited_post<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<Gateway>>,
        T: 'static,
    {
        self.route(path, post(path, handler))
    }
}

/// `axum::routing::post(handler)`, recording each call as one to `route`.
fn post<H, T>(route: &'static str, handler: H) -> MethodRouter<Arc<Gateway>>
where
    H: Handler<T, Arc<Gateway>>,
    T: 'static,
{
    axum::routing::post(move |State(gw): State<Arc<Gateway>>, request: Request| {
        let handler = handler.clone();
        async move {
            if gw.audit.is_none() {
                return handler.call(request, gw).await;
            }
            recorded(gw, route, request, handler).await
        }
    })
}

/// Calls the handler and records what was asked, by whom, and the outcome.
async fn recorded<H, T>(
    gw: Arc<Gateway>,
    route: &'static str,
    request: Request,
    handler: H,
) -> Response
where
    H: Handler<T, Arc<Gateway>>,
{
    let time_ms = unix_millis();
    let (mut parts, body) = request.into_parts();
    let who = who(&gw, &parts.headers);
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let caller_addr = crate::enforce::network::caller_ip(&gw.config.network, peer, &parts.headers)
        .map(|ip| ip.to_string());
    let path_params = path_params(&mut parts).await;
    let (seen, body) = read_capped(body).await;
    // Before the handler: a key it deletes is no longer known after it.
    let prompt = match seen {
        Some(bytes) => redacted(&gw, &bytes, path_params),
        None => Some(json!({"truncated": true}).to_string()),
    };

    let response = handler
        .call(Request::from_parts(parts, body), gw.clone())
        .await;

    let (parts, body) = response.into_parts();
    let (seen, body) = read_capped(body).await;
    let outcome = outcome(parts.status.as_u16(), seen.as_deref());
    if let Some(writer) = &gw.audit {
        writer.record(AuditEntry {
            time_ms,
            kind: AuditKind::AdminAction,
            request_id: Some(crate::pipeline::new_call_id()),
            key_hash: who.key_hash,
            user_id: who.user_id,
            team_id: who.team_id,
            caller_addr,
            model_group: Some(route.to_string()),
            prompt,
            response: Some(outcome),
            store_plaintext: true,
            ..AuditEntry::default()
        });
    }
    Response::from_parts(parts, body)
}

/// The caller as the record names it.
#[derive(Debug, Default, PartialEq)]
struct Who {
    key_hash: Option<String>,
    user_id: Option<String>,
    team_id: Option<String>,
}

/// The master key is `master_key`; a virtual key is its hash, user and
/// team. A key that is known but refused (blocked, expired) is still
/// named by its hash; an unknown one, or none, leaves the caller empty
/// (the outcome's 401 says the rest).
fn who(gw: &Gateway, headers: &HeaderMap) -> Who {
    match gw.auth.authenticate(headers) {
        Ok(Principal::Admin) => Who {
            user_id: Some("master_key".into()),
            ..Who::default()
        },
        Ok(Principal::Anonymous) => Who::default(),
        Ok(Principal::Key(entry)) => Who {
            key_hash: Some(entry.token_hash().to_string()),
            user_id: entry.key.user_id.clone(),
            team_id: entry.key.team_id.clone(),
        },
        Err(_) => match presented_key(headers).and_then(|k| gw.accounts.key(&hash_key(k))) {
            Some(entry) => Who {
                key_hash: Some(entry.token_hash().to_string()),
                ..Who::default()
            },
            None => Who::default(),
        },
    }
}

/// The route's path parameters (as the path is percent-decoded), by name.
async fn path_params(parts: &mut Parts) -> Map<String, Value> {
    match RawPathParams::from_request_parts(parts, &()).await {
        Ok(params) => params
            .iter()
            .map(|(name, value)| (name.to_string(), Value::String(value.to_string())))
            .collect(),
        Err(_) => Map::new(),
    }
}

/// Reads a body up to [`MAX_RECORDED_BYTES`]. Returns what was read when
/// that is all of it, and a body that yields exactly what the original
/// would have: the bytes read, then (when it was longer, or failed) the
/// rest or the error.
async fn read_capped(mut body: Body) -> (Option<Bytes>, Body) {
    let mut seen = BytesMut::new();
    loop {
        match body.frame().await {
            None => {
                let whole = seen.freeze();
                return (Some(whole.clone()), Body::from(whole));
            }
            // Trailers are not data; no management client sends them.
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    seen.extend_from_slice(&data);
                    if seen.len() > MAX_RECORDED_BYTES {
                        break;
                    }
                }
            }
            Some(Err(e)) => {
                let read = futures_util::stream::iter([Ok(seen.freeze()), Err(e)]);
                return (None, Body::from_stream(read));
            }
        }
    }
    let read = seen.freeze();
    let rest = futures_util::stream::once(async move { Ok::<_, axum::Error>(read) })
        .chain(body.into_data_stream());
    (None, Body::from_stream(rest))
}

/// The body (and path parameters, under `path_params`) as compact JSON
/// with every secret replaced; `None` for an empty call. A body that is
/// not JSON is not kept at all, only its length.
fn redacted(gw: &Gateway, body: &[u8], path_params: Map<String, Value>) -> Option<String> {
    let mut value = if body.iter().all(u8::is_ascii_whitespace) {
        if path_params.is_empty() {
            return None;
        }
        Value::Object(Map::new())
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => v,
            Err(_) => return Some(json!({"unparsed": true, "bytes": body.len()}).to_string()),
        }
    };
    if !path_params.is_empty()
        && let Value::Object(fields) = &mut value
    {
        fields.insert("path_params".into(), Value::Object(path_params));
    }
    let is_stored_key = |s: &str| gw.accounts.key(s).is_some();
    scrub(&mut value, &is_stored_key);
    Some(value.to_string())
}

/// Replaces the values of [`SECRET_FIELDS`], wherever they are.
fn scrub(value: &mut Value, is_stored_key: &dyn Fn(&str) -> bool) {
    match value {
        Value::Object(fields) => {
            for (name, v) in fields.iter_mut() {
                if SECRET_FIELDS.contains(&name.as_str()) {
                    hide(v, is_stored_key);
                } else {
                    scrub(v, is_stored_key);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, is_stored_key)),
        _ => {}
    }
}

/// Every string or number in `value` becomes `sha256:` and its key hash.
fn hide(value: &mut Value, is_stored_key: &dyn Fn(&str) -> bool) {
    match value {
        Value::String(s) => *value = Value::String(key_hash_text(s, is_stored_key)),
        Value::Number(n) => *value = Value::String(key_hash_text(&n.to_string(), is_stored_key)),
        Value::Array(items) => items.iter_mut().for_each(|v| hide(v, is_stored_key)),
        Value::Object(fields) => fields.values_mut().for_each(|v| hide(v, is_stored_key)),
        Value::Null | Value::Bool(_) => {}
    }
}

/// `sha256:` and the key hash a value stands for: a stored key's hash
/// (`token`) is already one and is kept; anything else is hashed the way
/// keys are stored, so that a plaintext key reads as its `key_hash`.
fn key_hash_text(value: &str, is_stored_key: &dyn Fn(&str) -> bool) -> String {
    let value = value.trim();
    let hash = if value.len() == 64 && is_stored_key(value) {
        value.to_string()
    } else {
        hash_key(value)
    };
    format!("sha256:{hash}")
}

/// `{"status": …}`, with the key hash (`token`) a successful answer names
/// (the new key's, for generate and regenerate; never the key itself) or
/// the error's type and code.
fn outcome(status: u16, body: Option<&[u8]>) -> String {
    let mut out = Map::new();
    out.insert("status".into(), status.into());
    let answer = body.and_then(|b| serde_json::from_slice::<Value>(b).ok());
    if let Some(answer) = answer {
        if (200..300).contains(&status) {
            if let Some(token) = answer.get("token").filter(|t| t.is_string()) {
                out.insert("token".into(), token.clone());
            }
        } else if let Some(error) = answer.get("error").filter(|e| e.is_object()) {
            out.insert(
                "error".into(),
                json!({"type": error.get("type"), "code": error.get("code")}),
            );
        }
    }
    Value::Object(out).to_string()
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubbed(body: Value, stored: &[&str]) -> Value {
        let mut v = body;
        scrub(&mut v, &|s: &str| stored.contains(&s));
        v
    }

    #[test]
    fn secrets_become_key_hashes_at_any_depth() {
        let token = hash_key("sk-stored-key");
        let v = scrubbed(
            json!({
                "key": "sk-plain",
                "keys": ["sk-a", token, 12],
                "new_key": " sk-b ",
                "team_id": "t1",
                "metadata": {"api_key": "abc", "note": "keep", "nested": [{"master_key": "m"}]},
                "blocked": true,
                "token": null
            }),
            &[&token],
        );
        let h = |k: &str| format!("sha256:{}", hash_key(k));
        assert_eq!(
            v,
            json!({
                "key": h("sk-plain"),
                "keys": [h("sk-a"), format!("sha256:{token}"), h("12")],
                "new_key": h("sk-b"),
                "team_id": "t1",
                "metadata": {"api_key": h("abc"), "note": "keep", "nested": [{"master_key": h("m")}]},
                "blocked": true,
                "token": null
            })
        );
    }

    #[test]
    fn an_unknown_hash_looking_value_is_hashed_again() {
        // A 64-hex master key (openssl rand -hex 32) must not survive.
        let secret = "ab".repeat(32);
        let v = scrubbed(json!({"key": secret}), &[]);
        assert_eq!(v["key"], format!("sha256:{}", hash_key(&secret)));
    }

    #[test]
    fn the_outcome_has_the_status_the_token_or_the_error() {
        let ok = outcome(200, Some(br#"{"key":"sk-new","token":"abc","spend":0}"#));
        assert_eq!(ok, r#"{"status":200,"token":"abc"}"#);
        let refused = outcome(
            403,
            Some(br#"{"error":{"message":"no","type":"permission_error","param":null,"code":"forbidden"}}"#),
        );
        assert_eq!(
            refused,
            r#"{"status":403,"error":{"type":"permission_error","code":"forbidden"}}"#
        );
        assert_eq!(outcome(500, Some(b"not json")), r#"{"status":500}"#);
        assert_eq!(outcome(200, None), r#"{"status":200}"#);
    }

    #[tokio::test]
    async fn bodies_are_handed_on_byte_for_byte_however_long() {
        let small = Bytes::from_static(b"{\"a\": 1}");
        let (seen, body) = read_capped(Body::from(small.clone())).await;
        assert_eq!(seen, Some(small.clone()));
        assert_eq!(axum::body::to_bytes(body, usize::MAX).await.unwrap(), small);

        let chunks: Vec<Result<Bytes, std::io::Error>> = (0..3)
            .map(|i| Ok(Bytes::from(vec![b'a' + i; MAX_RECORDED_BYTES / 2 + 1])))
            .collect();
        let expected: Vec<u8> = chunks
            .iter()
            .flat_map(|c| c.as_ref().unwrap().to_vec())
            .collect();
        let (seen, body) = read_capped(Body::from_stream(futures_util::stream::iter(chunks))).await;
        assert_eq!(seen, None);
        let passed = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(passed.as_ref(), expected.as_slice());
    }
}
