//! `GET /spend/logs` and `GET /global/spend/report` (admins only), with
//! LiteLLM's query parameters and response shapes; see docs/spend.md.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use super::Gateway;
use super::error::ApiError;
use crate::accounts::UserRole;
use crate::auth::Principal;
use crate::spend::dates::{self, MS_PER_DAY};
use crate::spend::{Granularity, GroupBy, LogFilter, key_hash_param, queries, report, wire};

/// Rows `/spend/logs` returns unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: u32 = 1_000;
const MAX_LIMIT: u32 = 10_000;
/// Days a per-day summary may list (one entry per day, with or without spend).
const MAX_SUMMARY_DAYS: i64 = 3_660;

#[derive(Deserialize)]
pub struct LogsParams {
    api_key: Option<String>,
    user_id: Option<String>,
    team_id: Option<String>,
    end_user: Option<String>,
    request_id: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    summarize: Option<String>,
    limit: Option<String>,
}

pub async fn logs(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    params: Result<Query<LogsParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    admin_only(&gw, &headers, "/spend/logs")?;
    let Query(p) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
    let start = date_param("start_date", &p.start_date)?;
    let end = date_param("end_date", &p.end_date)?;
    check_order(start, end)?;
    let summarize = summarize_param(&p.summarize)?;
    let limit = limit_param(&p.limit)?;
    let filter = LogFilter {
        key_hash: p.api_key.as_deref().map(key_hash_param),
        user_id: p.user_id,
        team_id: p.team_id,
        end_user: p.end_user,
        request_id: p.request_id,
        start_ms: start,
        end_ms: end.map(|day_start| day_start + MS_PER_DAY),
    };
    // LiteLLM answers a request with both dates with a per-day summary
    // unless `summarize=false`.
    if let (Some(start), Some(end), true) = (start, end, summarize) {
        return daily_summary(&gw, &filter, start, end).await;
    }
    let rows = queries::logs(&gw.store, &filter, limit)
        .await
        .map_err(storage_error)?;
    Ok(Json(Value::Array(rows.iter().map(wire::log_row).collect())))
}

async fn daily_summary(
    gw: &Gateway,
    filter: &LogFilter,
    start: i64,
    end: i64,
) -> Result<Json<Value>, ApiError> {
    let (first, last) = (dates::day_of(start), dates::day_of(end));
    if last - first >= MAX_SUMMARY_DAYS {
        return Err(ApiError::param(
            "end_date",
            format!(
                "a summary covers at most {MAX_SUMMARY_DAYS} days; narrow the range or pass summarize=false"
            ),
        ));
    }
    let days = report::report(&gw.store, GroupBy::User, Granularity::Day, filter)
        .await
        .map_err(storage_error)?;
    Ok(Json(wire::daily_summary(&days, first, last)))
}

fn summarize_param(value: &Option<String>) -> Result<bool, ApiError> {
    match value.as_deref().map(str::trim) {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(ApiError::param(
            "summarize",
            "summarize must be true or false",
        )),
    }
}

fn limit_param(value: &Option<String>) -> Result<u32, ApiError> {
    let Some(text) = value else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::param(
            "limit",
            format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
        )),
    }
}

#[derive(Deserialize)]
pub struct ReportParams {
    start_date: Option<String>,
    end_date: Option<String>,
    group_by: Option<String>,
    granularity: Option<String>,
    api_key: Option<String>,
    internal_user_id: Option<String>,
    team_id: Option<String>,
    customer_id: Option<String>,
}

pub async fn global_report(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    admin_only(&gw, &headers, "/global/spend/report")?;
    let Query(p) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
    let start = required_date("start_date", &p.start_date)?;
    let end = required_date("end_date", &p.end_date)?;
    check_order(Some(start), Some(end))?;
    let by = match p.group_by.as_deref() {
        None => GroupBy::Team,
        Some(s) => s.parse().map_err(|e| ApiError::param("group_by", e))?,
    };
    let granularity = match p.granularity.as_deref() {
        None => Granularity::Day,
        Some(s) => s.parse().map_err(|e| ApiError::param("granularity", e))?,
    };
    let filter = LogFilter {
        key_hash: p.api_key.as_deref().map(key_hash_param),
        user_id: p.internal_user_id,
        team_id: p.team_id,
        end_user: p.customer_id,
        request_id: None,
        start_ms: Some(start),
        end_ms: Some(end + MS_PER_DAY),
    };
    let periods = report::report(&gw.store, by, granularity, &filter)
        .await
        .map_err(storage_error)?;
    Ok(Json(wire::global_report(
        &periods,
        by,
        granularity == Granularity::Month,
    )))
}

/// Everyone's spend is for the master key (or an open gateway) and for keys
/// of users who may read every account: `proxy_admin`, `proxy_admin_viewer`.
fn admin_only(gw: &Gateway, headers: &HeaderMap, route: &str) -> Result<(), ApiError> {
    let principal = gw.auth.authenticate(headers)?;
    let allowed = match &principal {
        Principal::Admin | Principal::Anonymous => true,
        Principal::Key(_) => principal.role().is_some_and(UserRole::can_view_all),
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            format!(
                "{route} needs the master key or a proxy_admin or proxy_admin_viewer user's key."
            ),
        ))
    }
}

/// A `YYYY-MM-DD` parameter as the unix milliseconds of that day's start.
fn date_param(name: &str, value: &Option<String>) -> Result<Option<i64>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            dates::parse_date(v)
                .map(dates::start_of)
                .map_err(|e| ApiError::param(name, format!("{name}: {e}")))
        })
        .transpose()
}

fn required_date(name: &str, value: &Option<String>) -> Result<i64, ApiError> {
    date_param(name, value)?
        .ok_or_else(|| ApiError::param(name, format!("{name} is required (YYYY-MM-DD)")))
}

fn check_order(start: Option<i64>, end: Option<i64>) -> Result<(), ApiError> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => {
            Err(ApiError::param("end_date", "end_date is before start_date"))
        }
        _ => Ok(()),
    }
}

fn storage_error(e: sqlx::Error) -> ApiError {
    tracing::error!("reading spend from the database failed: {e}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Reading spend from the database failed.",
    )
}
