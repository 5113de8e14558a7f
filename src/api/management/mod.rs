//! LiteLLM's management API: keys, teams, users, end users (customers)
//! and budgets. Every write goes to the database first and then to the
//! in-memory registry the request path reads; info and list routes read the
//! database. Routes, fields and answers follow LiteLLM's; where we differ it
//! is said in docs/management-api.md.

mod access;
mod audited;
mod budgets;
mod customers;
mod fields;
mod keys;
mod lookups;
mod team_members;
mod teams;
mod users;
mod views;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router as Routes;
use axum::http::StatusCode;
use axum::routing::{get, post};

use self::audited::AuditedRoutes;
use super::Gateway;
use super::error::ApiError;

/// Every POST route that changes something is an `audited_post`:
/// one admin-action record per call (`/budget/info` only reads).
pub fn routes() -> Routes<Arc<Gateway>> {
    Routes::new()
        .audited_post("/key/generate", keys::write::generate)
        .audited_post("/key/update", keys::write::update)
        .audited_post("/key/regenerate", keys::write::regenerate)
        .audited_post("/key/{key}/regenerate", keys::write::regenerate_path)
        .audited_post("/key/delete", keys::state::delete)
        .audited_post("/key/block", keys::state::block)
        .audited_post("/key/unblock", keys::state::unblock)
        .route("/key/info", get(keys::read::info))
        .route("/key/list", get(keys::read::list))
        .audited_post("/team/new", teams::new)
        .audited_post("/team/update", teams::update)
        .audited_post("/team/delete", teams::delete)
        .audited_post("/team/block", teams::block)
        .audited_post("/team/unblock", teams::unblock)
        .route("/team/info", get(teams::info))
        .route("/team/list", get(teams::list))
        .audited_post("/team/member_add", team_members::add)
        .audited_post("/team/member_delete", team_members::delete)
        .audited_post("/user/new", users::new)
        .audited_post("/user/update", users::update)
        .audited_post("/user/delete", users::delete)
        .route("/user/info", get(users::info))
        .route("/user/list", get(users::list))
        .audited_post("/customer/new", customers::new)
        .audited_post("/customer/update", customers::update)
        .audited_post("/customer/delete", customers::delete)
        .audited_post("/customer/block", customers::block)
        .audited_post("/customer/unblock", customers::unblock)
        .route("/customer/info", get(customers::info))
        .route("/customer/list", get(customers::list))
        .audited_post("/budget/new", budgets::new)
        .audited_post("/budget/update", budgets::update)
        .audited_post("/budget/delete", budgets::delete)
        .route("/budget/info", post(budgets::info))
        .route("/budget/list", get(budgets::list))
}

/// A database failure: the caller can only retry.
fn db(e: sqlx::Error) -> ApiError {
    tracing::error!("management API: database error: {e}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        format!("The database failed: {e}"),
    )
    .with_code("database_error")
}

/// An id the route is about does not exist.
fn not_found(param: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        ..ApiError::param(param, message).with_code("not_found")
    }
}

/// A whole-number query parameter in `1..=max`, else `default`.
fn page_param(
    q: &HashMap<String, String>,
    name: &str,
    default: u64,
    max: u64,
) -> Result<u64, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::param(
                    name,
                    format!("{name} must be a whole number from 1 to {max}."),
                )
            }),
    }
}
