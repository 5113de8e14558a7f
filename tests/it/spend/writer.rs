//! The background writer: batches on its interval and on size, writes
//! everything on shutdown, keeps the running totals, and counts every
//! record it cannot write.

use std::time::Duration;

use switchyard::spend::{self, CallType, SpendRecord, SpendWriter, WriterOptions};
use switchyard::store::Store;

use super::seed::{self, ALPHA};
use crate::support::databases::{BOTH, TestDb};

const HOUR: Duration = Duration::from_secs(3600);

fn numbered(n: usize) -> Vec<SpendRecord> {
    (0..n)
        .map(|i| SpendRecord {
            cost: 0.5,
            key_hash: Some(spend::key_hash(ALPHA)),
            tags: vec!["t".into()],
            ..SpendRecord::new(format!("req-{i}"), CallType::Embeddings, "e", 1_000, 2_000)
        })
        .collect()
}

#[tokio::test]
async fn shutdown_writes_every_row_and_the_running_totals() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = seed::seeded(&db.url).await;
        assert_eq!(seed::log_rows(&store).await, 7, "{kind:?}");
        let (tags,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sy_spend_log_tags")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(tags, 7, "{kind:?}: one row per tag of each request");
        // Every record of the team, key, user or customer, whatever the month.
        let team = "SELECT spend FROM sy_teams WHERE team_id = $1";
        assert_eq!(seed::total(&store, team, "t-mkt").await, 9.5, "{kind:?}");
        assert_eq!(seed::total(&store, team, "t-eng").await, 22.0, "{kind:?}");
        let key = "SELECT spend FROM sy_keys WHERE token_hash = $1";
        let alpha = spend::key_hash(ALPHA);
        assert_eq!(seed::total(&store, key, &alpha).await, 9.5, "{kind:?}");
        let user = "SELECT spend FROM sy_users WHERE user_id = $1";
        assert_eq!(seed::total(&store, user, "u-ann").await, 9.75, "{kind:?}");
        let customer = "SELECT spend FROM sy_end_users WHERE end_user_id = $1";
        assert_eq!(seed::total(&store, customer, "acme").await, 9.5, "{kind:?}");
    }
}

#[tokio::test]
async fn a_short_interval_writes_without_waiting_for_shutdown() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = Store::open(&db.url).await.unwrap();
        let writer = SpendWriter::start(
            store.clone(),
            WriterOptions {
                interval: Duration::from_millis(30),
                ..WriterOptions::default()
            },
        );
        for r in numbered(3) {
            writer.record(r);
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while seed::log_rows(&store).await < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "{kind:?}: never flushed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = writer.counters();
        assert_eq!((c.written, c.dropped, c.pending), (3, 0, 0), "{kind:?}");
        writer.shutdown().await;
    }
}

#[tokio::test]
async fn records_wait_for_the_interval_or_a_full_batch_and_shutdown_drains_them() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = Store::open(&db.url).await.unwrap();
        let writer = SpendWriter::start(
            store.clone(),
            WriterOptions {
                interval: HOUR,
                max_batch: 40,
                ..WriterOptions::default()
            },
        );
        // The interval's first tick is at once; let it pass empty.
        tokio::time::sleep(Duration::from_millis(50)).await;
        for r in numbered(100) {
            writer.record(r);
        }
        // Two full batches are written at once; the 20 left wait.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while writer.counters().written < 80 {
            assert!(
                std::time::Instant::now() < deadline,
                "{kind:?}: {:?}",
                writer.counters()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(seed::log_rows(&store).await, 80, "{kind:?}");
        assert_eq!(writer.counters().pending, 20, "{kind:?}");
        writer.shutdown().await;
        assert_eq!(seed::log_rows(&store).await, 100, "{kind:?}");
        let c = writer.counters();
        assert_eq!((c.written, c.dropped, c.pending), (100, 0, 0), "{kind:?}");
        // Closed: later records are dropped and counted.
        writer.record(numbered(101).pop().unwrap());
        assert_eq!(writer.counters().dropped, 1, "{kind:?}");
        writer.shutdown().await;
    }
}

// A current-thread runtime: the writer task cannot run between the
// `record` calls, so exactly `capacity` records fit.
#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_and_counts() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = Store::open(&db.url).await.unwrap();
        let writer = SpendWriter::start(
            store.clone(),
            WriterOptions {
                interval: HOUR,
                capacity: 2,
                ..WriterOptions::default()
            },
        );
        for r in numbered(10) {
            writer.record(r);
        }
        let c = writer.counters();
        assert_eq!((c.dropped, c.pending), (8, 2), "{kind:?}");
        writer.shutdown().await;
        let c = writer.counters();
        assert_eq!((c.written, c.dropped, c.pending), (2, 8, 0), "{kind:?}");
        assert_eq!(seed::log_rows(&store).await, 2, "{kind:?}");
    }
}

#[tokio::test]
async fn a_request_logged_twice_is_one_row_and_costs_once() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = Store::open(&db.url).await.unwrap();
        seed::accounts(&store).await;
        let writer = SpendWriter::start(store.clone(), WriterOptions::default());
        let r = numbered(1).pop().unwrap();
        writer.record(r.clone());
        writer.record(r);
        writer.shutdown().await;
        assert_eq!(seed::log_rows(&store).await, 1, "{kind:?}");
        assert_eq!(writer.counters().written, 1, "{kind:?}");
        let key = "SELECT spend FROM sy_keys WHERE token_hash = $1";
        let spent = seed::total(&store, key, &spend::key_hash(ALPHA)).await;
        assert_eq!(spent, 0.5, "{kind:?}");
    }
}

#[tokio::test]
async fn a_batch_that_keeps_failing_is_counted_as_dropped() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = Store::open(&db.url).await.unwrap();
        let writer = SpendWriter::start(
            store.clone(),
            WriterOptions {
                interval: HOUR,
                attempts: 2,
                ..WriterOptions::default()
            },
        );
        for r in numbered(5) {
            writer.record(r);
        }
        store.pool.close().await;
        writer.shutdown().await;
        let c = writer.counters();
        assert_eq!((c.written, c.dropped, c.pending), (0, 5, 0), "{kind:?}");
    }
}

#[tokio::test]
async fn rows_read_back_as_written() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = seed::seeded(&db.url).await;
        let filter = spend::LogFilter {
            request_id: Some("r5".into()),
            ..Default::default()
        };
        let rows = spend::queries::logs(&store, &filter, 10).await.unwrap();
        let expected = seed::records().into_iter().find(|r| r.request_id == "r5");
        assert_eq!(rows, Vec::from_iter(expected), "{kind:?}");
        // Failures, flags and empty fields survive the round trip too.
        let odd = SpendRecord {
            status: spend::SpendStatus::Failure,
            error_type: Some("rate_limit_error".into()),
            http_status: 429,
            cache_hit: true,
            cost_estimated: true,
            ttft_ms: None,
            ..SpendRecord::new("odd", CallType::Messages, "claude", 5, 6)
        };
        let writer = SpendWriter::start(store.clone(), WriterOptions::default());
        writer.record(odd.clone());
        writer.shutdown().await;
        let filter = spend::LogFilter {
            request_id: Some("odd".into()),
            ..Default::default()
        };
        let rows = spend::queries::logs(&store, &filter, 10).await.unwrap();
        assert_eq!(rows, [odd], "{kind:?}");
    }
}
