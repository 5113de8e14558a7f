//! `GET /health` (master key only): calls every deployment with a minimal
//! request (one-token chat, or a one-word embedding for `model_info.mode:
//! embedding`) and sorts them into healthy and unhealthy, as LiteLLM does.
//! It costs upstream calls, so it is an admin's tool, not a probe: the
//! probes are `/health/liveliness` and `/health/readiness`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::Gateway;
use super::error::ApiError;
use super::wire::ApiRequest;
use crate::auth::Principal;
use crate::config::Deployment;
use crate::pipeline;
use crate::providers::Operation;

/// The longest one check waits for its deployment.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn health(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    if gw.auth.authenticate(&headers)? != Principal::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "/health needs the master key; set general_settings.master_key.",
        ));
    }
    let mut deployments: Vec<Arc<Deployment>> = gw.router.deployments().cloned().collect();
    deployments.sort_by(|a, b| (&a.group, &a.id).cmp(&(&b.group, &b.id)));
    let checks = deployments.iter().map(|d| check(&gw, d));
    let results = futures_util::future::join_all(checks).await;
    let (mut healthy, mut unhealthy) = (Vec::new(), Vec::new());
    for (d, result) in deployments.iter().zip(results) {
        let mut entry = json!({
            "model_name": d.group,
            "model": format!("{}/{}", d.provider.prefix(), d.upstream_model),
            "id": d.id,
            "api_base": d.api_base,
        });
        match result {
            Ok(()) => healthy.push(entry),
            Err(message) => {
                entry["error"] = Value::String(message);
                unhealthy.push(entry);
            }
        }
    }
    Ok(Json(json!({
        "healthy_count": healthy.len(),
        "unhealthy_count": unhealthy.len(),
        "healthy_endpoints": healthy,
        "unhealthy_endpoints": unhealthy,
    })))
}

async fn check(gw: &Gateway, d: &Deployment) -> Result<(), String> {
    let embedding = d.model_info.get("mode").and_then(Value::as_str) == Some("embedding");
    let (op, body) = if embedding {
        (
            Operation::Embeddings,
            json!({"model": d.group, "input": "ping"}),
        )
    } else {
        (
            Operation::Chat,
            json!({"model": d.group, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}),
        )
    };
    let request = ApiRequest::parse(op, body.to_string().as_bytes()).map_err(|e| e.message)?;
    let wait = d.timeout.min(CHECK_TIMEOUT);
    match tokio::time::timeout(wait, pipeline::attempt(gw, d, &request)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            let e = pipeline::without_secrets(e, d);
            Err(format!("{} ({})", e.message, e.status.as_u16()))
        }
        Err(_) => Err(format!("no answer within {} s", wait.as_secs_f64())),
    }
}
