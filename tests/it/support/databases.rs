//! Fresh, isolated databases for storage tests: a SQLite file in its own
//! temporary directory, or a schema of its own on the real PostgreSQL
//! server (`SWITCHYARD_TEST_POSTGRES`, default the local one on
//! 127.0.0.1:5432, database `test`). `scripts/test.sh` makes sure that
//! server runs; a test never skips because it does not.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Both backends: the same test runs against each.
pub const BOTH: [Db; 2] = [Db::Sqlite, Db::Postgres];

/// A database no other test uses; what it holds is removed on drop
/// (SQLite) or with the next run's sweep (PostgreSQL schemas over an hour old).
pub struct TestDb {
    pub url: String,
    dir: Option<PathBuf>,
}

impl TestDb {
    pub async fn fresh(kind: Db) -> TestDb {
        let tag = format!("{}_{:08x}", unix_now(), fastrand::u32(..));
        match kind {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(format!("switchyard-test-{tag}"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("switchyard.db").display());
                TestDb {
                    url,
                    dir: Some(dir),
                }
            }
            Db::Postgres => {
                let base = postgres_url();
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(&base).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at {base} is needed for this test (scripts/test.sh starts one): {e}")
                });
                sweep_old_schemas(&mut conn).await;
                let schema = format!("sy_t_{tag}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDb {
                    url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub fn postgres_url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Schemas from runs over an hour ago: their tests are long finished.
async fn sweep_old_schemas(conn: &mut sqlx::AnyConnection) {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'sy\\_t\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    let cutoff = unix_now().saturating_sub(3600);
    for (name,) in rows {
        let born = name
            .strip_prefix("sy_t_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|t| t.parse::<u64>().ok());
        if born.is_some_and(|t| t < cutoff) {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}
