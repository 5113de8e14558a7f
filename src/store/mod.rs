//! Storage: the embedded SQLite file by default, PostgreSQL when
//! `general_settings.database_url` (or `DATABASE_URL`) names one. Both go
//! through sqlx's `Any` driver, so one set of queries (written with `$1`
//! placeholders, which both databases accept) serves both; only the schema
//! files differ where the two dialects do.
//!
//! Nothing on the request path waits on the store: keys and limits are
//! served from memory, and spend is written in batches in the background.

pub mod accounts;
mod migrations;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

/// Which database is behind the pool, for the few statements that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pub pool: AnyPool,
    pub backend: Backend,
}

impl Store {
    /// A database that lives as long as the process: for a configuration
    /// that names no file (tests, embedding). One connection that is never
    /// closed, since an in-memory SQLite database ends with its connection.
    pub async fn open_in_memory() -> Result<Store, String> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect("sqlite::memory:")
            .await
            .map_err(|e| format!("cannot open an in-memory database: {e}"))?;
        migrations::run(&pool, Backend::Sqlite)
            .await
            .map_err(|e| format!("cannot migrate the database schema: {e}"))?;
        Ok(Store {
            pool,
            backend: Backend::Sqlite,
        })
    }

    /// `url`, or an in-memory database when there is none.
    pub async fn open_configured(url: Option<&str>) -> Result<Store, String> {
        match url {
            Some(url) => Store::open(url).await,
            None => Store::open_in_memory().await,
        }
    }

    /// Connects and brings the schema up to date. A SQLite file that does
    /// not exist yet is created (`sqlite://path`, or a bare path).
    pub async fn open(url: &str) -> Result<Store, String> {
        sqlx::any::install_default_drivers();
        let (url, backend) = normalise(url)?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| format!("database url: {e}"))?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
        let pool = AnyPoolOptions::new()
            // SQLite takes one writer at a time; more connections only queue.
            .max_connections(if backend == Backend::Sqlite { 2 } else { 8 })
            // A server that is not there fails start-up within seconds.
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers do not wait for the background writer.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                        // With WAL, NORMAL syncs at checkpoints, not at each
                        // commit: the file never corrupts; a power cut (not a
                        // crash of the process) may lose the last batch.
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?;
        migrations::run(&pool, backend)
            .await
            .map_err(|e| format!("cannot migrate the database schema: {e}"))?;
        Ok(Store { pool, backend })
    }
}

/// `sqlite://…` (created when missing), `postgres://…`/`postgresql://…`,
/// or a bare file path taken as SQLite.
fn normalise(url: &str) -> Result<(String, Backend), String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() {
        return Err("database url: empty SQLite path".into());
    }
    let mode = if path.contains('?') {
        "&mode=rwc"
    } else {
        "?mode=rwc"
    };
    Ok((format!("sqlite://{path}{mode}"), Backend::Sqlite))
}
