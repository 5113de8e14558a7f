//! `/v1/models` in OpenAI's list shape, and the health probes.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};

use super::Gateway;
use super::error::ApiError;

fn model_object(gw: &Gateway, id: &str) -> Value {
    let created = gw
        .started_at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json!({"id": id, "object": "model", "created": created, "owned_by": "switchyard"})
}

pub async fn list(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    gw.auth.authenticate(&headers)?;
    let data: Vec<Value> = gw
        .config
        .groups()
        .into_iter()
        .map(|g| model_object(&gw, g))
        .collect();
    Ok(Json(json!({"object": "list", "data": data})))
}

pub async fn retrieve(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(model): Path<String>,
) -> Result<Json<Value>, ApiError> {
    gw.auth.authenticate(&headers)?;
    if !gw.router.has_group(&model) {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            ..ApiError::param("model", format!("The model '{model}' does not exist."))
                .with_code("model_not_found")
        });
    }
    Ok(Json(model_object(&gw, &model)))
}

/// Public: the process is up (LiteLLM's body, for existing probes).
pub async fn liveliness() -> Json<&'static str> {
    Json("I'm alive!")
}

/// Public: the gateway can serve requests.
pub async fn readiness(State(gw): State<Arc<Gateway>>) -> Json<Value> {
    Json(json!({
        "status": "healthy",
        "db": "not configured",
        "cache": null,
        "version": env!("CARGO_PKG_VERSION"),
        "model_groups": gw.config.groups().len(),
    }))
}

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        ..ApiError::invalid(format!("Unknown route: {method} {}", uri.path()))
    }
}
