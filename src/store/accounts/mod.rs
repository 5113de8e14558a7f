//! Accounts in the database: virtual keys, teams (with their members),
//! users, end users and budgets, as typed rows with their queries. The
//! management API writes here first; the in-memory registry
//! (`crate::accounts`) is loaded from here and is what requests read.
//!
//! JSON values (model lists, metadata, per-model limits) are TEXT columns,
//! parsed into typed fields once when a row is read. Times are unix seconds.
//! `spend` is never written by these queries: the spend writer adds to it
//! in place, and a full-row update must not undo that.

pub mod budgets;
pub mod deletions;
pub mod end_users;
pub mod keys;
pub mod teams;
pub mod users;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Free-form JSON objects as LiteLLM takes them (`metadata`, `aliases`).
pub type JsonObject = Map<String, Value>;

/// Per-model request or token limits (`model_rpm_limit`, `model_tpm_limit`).
pub type ModelLimits = BTreeMap<String, u64>;

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A value as the TEXT a JSON column holds.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

/// An optional JSON column; NULL is `None`.
pub(crate) fn to_json_opt<T: Serialize>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(|v| to_json(v))
}

/// Reads a JSON TEXT column; NULL or empty reads as the type's default.
pub(crate) fn json_col<T: DeserializeOwned + Default>(
    row: &AnyRow,
    column: &str,
) -> Result<T, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    match text.as_deref().map(str::trim) {
        None | Some("") | Some("null") => Ok(T::default()),
        Some(text) => serde_json::from_str(text).map_err(|e| sqlx::Error::ColumnDecode {
            index: column.to_string(),
            source: Box::new(e),
        }),
    }
}

/// Reads a nullable JSON TEXT column, keeping NULL apart from an empty value.
pub(crate) fn json_col_opt<T: DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<Option<T>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    match text.as_deref().map(str::trim) {
        None | Some("") | Some("null") => Ok(None),
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|e| sqlx::Error::ColumnDecode {
                index: column.to_string(),
                source: Box::new(e),
            }),
    }
}

/// A boolean column: BOOLEAN on PostgreSQL, INTEGER 0/1 on SQLite (the
/// `Any` driver reads the two as different kinds).
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    match row.try_get::<bool, _>(column) {
        Ok(b) => Ok(b),
        Err(_) => row.try_get::<i64, _>(column).map(|i| i != 0),
    }
}

/// A nullable BIGINT column holding a count or limit.
pub(crate) fn count_col(row: &AnyRow, column: &str) -> Result<Option<u64>, sqlx::Error> {
    let v: Option<i64> = row.try_get(column)?;
    Ok(v.map(|v| v.max(0) as u64))
}

/// A count or limit as a BIGINT parameter.
pub(crate) fn count_param(v: Option<u64>) -> Option<i64> {
    v.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

/// True when the error is a primary-key or unique-index clash.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
