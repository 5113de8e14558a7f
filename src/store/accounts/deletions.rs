//! `sy_account_deletions`: what was deleted, and when. A deleted row leaves
//! nothing behind to be noticed by an "updated since" query, so each delete
//! also writes here, and other gateway instances on the same database read
//! it to drop the row from their registry.

use sqlx::{AnyPool, Row};

/// Deletion records are kept a day: long enough for any instance that is
/// up to have read them; one that was down reloads everything at start.
const KEEP_SECONDS: i64 = 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Key,
    Team,
    User,
    EndUser,
    Budget,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Key => "key",
            Kind::Team => "team",
            Kind::User => "user",
            Kind::EndUser => "end_user",
            Kind::Budget => "budget",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "key" => Kind::Key,
            "team" => Kind::Team,
            "user" => Kind::User,
            "end_user" => Kind::EndUser,
            "budget" => Kind::Budget,
            _ => return None,
        })
    }
}

/// Records one deletion in the deleting transaction, and drops records
/// old enough that every running instance has seen them.
pub async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kind: Kind,
    id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sy_account_deletions (kind, id, deleted_at) VALUES ($1, $2, $3)")
        .bind(kind.as_str())
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM sy_account_deletions WHERE deleted_at < $1")
        .bind(now - KEEP_SECONDS)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletions at or after `since`, oldest first.
pub async fn since(pool: &AnyPool, since: i64) -> Result<Vec<(Kind, String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, id, deleted_at FROM sy_account_deletions WHERE deleted_at >= $1 \
         ORDER BY deleted_at",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get("kind")?;
        if let Some(kind) = Kind::parse(&kind) {
            out.push((kind, row.try_get("id")?, row.try_get("deleted_at")?));
        }
    }
    Ok(out)
}
