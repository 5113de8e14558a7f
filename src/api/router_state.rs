//! `GET /router/state` (master key only): what the router knows about each
//! deployment — health, cooldown, requests in flight, latency, recent
//! failure classes. Read from in-memory state; nothing is called.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::Gateway;
use super::error::ApiError;
use crate::auth::Principal;
use crate::providers::FailureClass;

pub async fn state(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    if gw.auth.authenticate(&headers)? != Principal::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "/router/state needs the master key; set general_settings.master_key.",
        ));
    }
    let now = Instant::now();
    let mut deployments: Vec<Value> = gw
        .router
        .deployments()
        .map(|d| {
            let s = gw.router.state(d).snapshot(now);
            json!({
                "id": d.id,
                "model_name": d.group,
                "model": format!("{}/{}", d.provider.prefix(), d.upstream_model),
                "api_base": d.api_base,
                "healthy": s.cooldown_remaining.is_none(),
                "cooldown_remaining_s": s.cooldown_remaining.map(|t| t.as_secs_f64()),
                "cooldown_reason": s.cooldown_reason.map(FailureClass::name),
                "in_flight": s.in_flight,
                "latency_avg_ms": s.latency_avg.map(|t| t.as_secs_f64() * 1000.0),
                "failures_this_minute": s.failures_this_minute,
                "requests_this_minute": s.requests_this_minute,
                "tokens_this_minute": s.tokens_this_minute,
                "rpm": d.rpm,
                "tpm": d.tpm,
                "recent_failures": s.recent_failures.into_iter().map(FailureClass::name).collect::<Vec<_>>(),
            })
        })
        .collect();
    deployments.sort_by(|a, b| {
        (a["model_name"].as_str(), a["id"].as_str())
            .cmp(&(b["model_name"].as_str(), b["id"].as_str()))
    });
    Ok(Json(json!({ "deployments": deployments })))
}
