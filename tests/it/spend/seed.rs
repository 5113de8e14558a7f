//! The spend tests' data: seven requests over October, November and
//! December 2026 by three keys, two teams, two users and two customers,
//! with costs that are exact binary fractions so that every sum in the
//! tests is exact. Written through a real `SpendWriter`.
//!
//! | id | when (UTC)              | key   | team  | user  | customer | model  | cost | tokens   | tags        |
//! |----|-------------------------|-------|-------|-------|----------|--------|------|----------|-------------|
//! | r1 | 2026-11-01 10:00        | alpha | t-mkt | u-ann | acme     | gpt-4o | 1    | 100+50   | prod, web   |
//! | r2 | 2026-11-01 23:59:59.999 | alpha | t-mkt | u-ann | acme     | claude | 0.5  | 10+5     | prod        |
//! | r3 | 2026-11-02 00:00        | beta  | t-eng | u-bob | globex   | gpt-4o | 2    | 200+100  | batch       |
//! | r4 | 2026-11-02 12:00        | gamma | —     | u-ann | —        | gpt-4o | 0.25 | 20+10    | —           |
//! | r5 | 2026-11-30 23:00        | beta  | t-eng | u-bob | globex   | claude | 4    | 400+200  | prod, batch |
//! | r6 | 2026-10-31 23:59:59.999 | alpha | t-mkt | u-ann | acme     | gpt-4o | 8    | 1+1      | prod        |
//! | r7 | 2026-12-01 00:00        | beta  | t-eng | u-bob | globex   | gpt-4o | 16   | 1+1      | —           |

use std::time::Duration;

use switchyard::spend::{self, CallType, SpendRecord, SpendWriter, WriterOptions};
use switchyard::store::Store;

pub const ALPHA: &str = "sk-alpha";
pub const BETA: &str = "sk-beta";
pub const GAMMA: &str = "sk-gamma";

/// Unix milliseconds of a UTC date and time.
pub fn at(date: &str, h: i64, m: i64, s: i64, ms: i64) -> i64 {
    let day = spend::dates::parse_date(date).unwrap();
    spend::dates::start_of(day) + ((h * 60 + m) * 60 + s) * 1000 + ms
}

struct Row {
    id: &'static str,
    time: i64,
    key: &'static str,
    team: Option<&'static str>,
    user: &'static str,
    customer: Option<&'static str>,
    model: &'static str,
    cost: f64,
    tokens: (u64, u64),
    tags: &'static [&'static str],
}

fn rows() -> Vec<Row> {
    let row = |id, time, key, team, user, customer, model, cost, tokens, tags| Row {
        id,
        time,
        key,
        team,
        user,
        customer,
        model,
        cost,
        tokens,
        tags,
    };
    vec![
        row(
            "r1",
            at("2026-11-01", 10, 0, 0, 0),
            ALPHA,
            Some("t-mkt"),
            "u-ann",
            Some("acme"),
            "gpt-4o",
            1.0,
            (100, 50),
            &["prod", "web"][..],
        ),
        row(
            "r2",
            at("2026-11-01", 23, 59, 59, 999),
            ALPHA,
            Some("t-mkt"),
            "u-ann",
            Some("acme"),
            "claude",
            0.5,
            (10, 5),
            &["prod"],
        ),
        row(
            "r3",
            at("2026-11-02", 0, 0, 0, 0),
            BETA,
            Some("t-eng"),
            "u-bob",
            Some("globex"),
            "gpt-4o",
            2.0,
            (200, 100),
            &["batch"],
        ),
        row(
            "r4",
            at("2026-11-02", 12, 0, 0, 0),
            GAMMA,
            None,
            "u-ann",
            None,
            "gpt-4o",
            0.25,
            (20, 10),
            &[],
        ),
        row(
            "r5",
            at("2026-11-30", 23, 0, 0, 0),
            BETA,
            Some("t-eng"),
            "u-bob",
            Some("globex"),
            "claude",
            4.0,
            (400, 200),
            &["prod", "batch"],
        ),
        row(
            "r6",
            at("2026-10-31", 23, 59, 59, 999),
            ALPHA,
            Some("t-mkt"),
            "u-ann",
            Some("acme"),
            "gpt-4o",
            8.0,
            (1, 1),
            &["prod"],
        ),
        row(
            "r7",
            at("2026-12-01", 0, 0, 0, 0),
            BETA,
            Some("t-eng"),
            "u-bob",
            Some("globex"),
            "gpt-4o",
            16.0,
            (1, 1),
            &[],
        ),
    ]
}

/// The seven records, in table order.
pub fn records() -> Vec<SpendRecord> {
    rows()
        .into_iter()
        .map(|r| SpendRecord {
            key_hash: Some(spend::key_hash(r.key)),
            key_alias: Some(r.key.trim_start_matches("sk-").to_string()),
            user_id: Some(r.user.into()),
            team_id: r.team.map(Into::into),
            end_user: r.customer.map(Into::into),
            tags: r.tags.iter().map(|t| t.to_string()).collect(),
            deployment_id: Some(format!("{}-deployment", r.model)),
            provider: Some("openai".into()),
            api_base: Some("https://api.example.test/v1".into()),
            model: Some(format!("{}-upstream", r.model)),
            prompt_tokens: r.tokens.0,
            completion_tokens: r.tokens.1,
            total_tokens: r.tokens.0 + r.tokens.1,
            cost: r.cost,
            ttft_ms: Some(120),
            ..SpendRecord::new(r.id, CallType::Chat, r.model, r.time, r.time + 800)
        })
        .collect()
}

/// Account rows for the running totals and the team aliases: the two
/// teams, key alpha, user u-ann and customer acme (columns of the accounts
/// migration; only what it requires is set).
pub async fn accounts(store: &Store) {
    let statements: [(&'static str, &str, &str); 5] = [
        (
            "INSERT INTO sy_teams (team_id, team_alias, created_at, updated_at) VALUES ($1, $2, 0, 0)",
            "t-mkt",
            "Marketing",
        ),
        (
            "INSERT INTO sy_teams (team_id, team_alias, created_at, updated_at) VALUES ($1, $2, 0, 0)",
            "t-eng",
            "Engineering",
        ),
        (
            "INSERT INTO sy_keys (token_hash, key_name, created_at, updated_at) VALUES ($1, $2, 0, 0)",
            &spend::key_hash(ALPHA),
            "sk-...lpha",
        ),
        (
            "INSERT INTO sy_users (user_id, user_email, created_at, updated_at) VALUES ($1, $2, 0, 0)",
            "u-ann",
            "ann@example.test",
        ),
        (
            "INSERT INTO sy_end_users (end_user_id, alias, created_at, updated_at) VALUES ($1, $2, 0, 0)",
            "acme",
            "ACME",
        ),
    ];
    for (sql, id, name) in statements {
        sqlx::query(sql)
            .bind(id.to_string())
            .bind(name.to_string())
            .execute(&store.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A store at `url` holding the accounts and the seven records.
pub async fn seeded(url: &str) -> Store {
    let store = Store::open(url).await.unwrap();
    accounts(&store).await;
    let writer = SpendWriter::start(
        store.clone(),
        WriterOptions {
            interval: Duration::from_millis(20),
            ..WriterOptions::default()
        },
    );
    for r in records() {
        writer.record(r);
    }
    writer.shutdown().await;
    let counters = writer.counters();
    assert_eq!((counters.written, counters.dropped), (7, 0), "{counters:?}");
    store
}

/// The spend total kept in an accounts table for one id.
pub async fn total(store: &Store, sql: &'static str, id: &str) -> f64 {
    let (spend,): (f64,) = sqlx::query_as(sql)
        .bind(id.to_string())
        .fetch_one(&store.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    spend
}

/// Rows in the log.
pub async fn log_rows(store: &Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sy_spend_logs")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    n
}
