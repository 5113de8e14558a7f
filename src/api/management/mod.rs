//! LiteLLM's management API: keys, teams, users, end users (customers)
//! and budgets. Every write goes to the database first and then to the
//! in-memory registry the request path reads; info and list routes read the
//! database. Routes, fields and answers follow LiteLLM's; where we differ it
//! is said in docs/management-api.md.

mod access;
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

use super::Gateway;
use super::error::ApiError;

pub fn routes() -> Routes<Arc<Gateway>> {
    Routes::new()
        .route("/key/generate", post(keys::write::generate))
        .route("/key/update", post(keys::write::update))
        .route("/key/regenerate", post(keys::write::regenerate))
        .route("/key/{key}/regenerate", post(keys::write::regenerate_path))
        .route("/key/delete", post(keys::state::delete))
        .route("/key/block", post(keys::state::block))
        .route("/key/unblock", post(keys::state::unblock))
        .route("/key/info", get(keys::read::info))
        .route("/key/list", get(keys::read::list))
        .route("/team/new", post(teams::new))
        .route("/team/update", post(teams::update))
        .route("/team/delete", post(teams::delete))
        .route("/team/block", post(teams::block))
        .route("/team/unblock", post(teams::unblock))
        .route("/team/info", get(teams::info))
        .route("/team/list", get(teams::list))
        .route("/team/member_add", post(team_members::add))
        .route("/team/member_delete", post(team_members::delete))
        .route("/user/new", post(users::new))
        .route("/user/update", post(users::update))
        .route("/user/delete", post(users::delete))
        .route("/user/info", get(users::info))
        .route("/user/list", get(users::list))
        .route("/customer/new", post(customers::new))
        .route("/customer/update", post(customers::update))
        .route("/customer/delete", post(customers::delete))
        .route("/customer/block", post(customers::block))
        .route("/customer/unblock", post(customers::unblock))
        .route("/customer/info", get(customers::info))
        .route("/customer/list", get(customers::list))
        .route("/budget/new", post(budgets::new))
        .route("/budget/update", post(budgets::update))
        .route("/budget/delete", post(budgets::delete))
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
