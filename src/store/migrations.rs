//! The schema, as numbered migrations: one list per database, same numbers
//! and same tables in both; embedded in the binary, applied at start-up by
//! sqlx's migrator (which records them in `_sqlx_migrations`).

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, SqlSafeStr};

use super::Backend;

/// (version, description, SQLite text, PostgreSQL text). Never edit a
/// released migration: add the next number.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "accounts",
        include_str!("migrations/sqlite/0001_accounts.sql"),
        include_str!("migrations/postgres/0001_accounts.sql"),
    ),
    (
        2,
        "spend logs",
        include_str!("migrations/sqlite/0002_spend_logs.sql"),
        include_str!("migrations/postgres/0002_spend_logs.sql"),
    ),
    (
        3,
        "audit log",
        include_str!("migrations/sqlite/0003_audit.sql"),
        include_str!("migrations/postgres/0003_audit.sql"),
    ),
];

pub async fn run(pool: &AnyPool, backend: Backend) -> Result<(), sqlx::migrate::MigrateError> {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => *sqlite,
                Backend::Postgres => *postgres,
            };
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations).run(pool).await
}
