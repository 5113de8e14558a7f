//! The Anthropic-compatible entry point (`/v1/messages`). Being written.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Gateway;
use super::error::ApiError;

pub async fn create(State(_gw): State<Arc<Gateway>>, _headers: HeaderMap, _body: Body) -> Response {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "not_implemented",
        "/v1/messages is not implemented yet",
    )
    .into_response()
}

pub async fn count_tokens(
    State(_gw): State<Arc<Gateway>>,
    _headers: HeaderMap,
    _body: Body,
) -> Response {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "not_implemented",
        "/v1/messages/count_tokens is not implemented yet",
    )
    .into_response()
}
