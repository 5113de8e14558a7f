//! The writer chains every record it accepted, in order, flushes all of it
//! on shutdown, and shares one chain with other writers on the database.

use std::time::Duration;

use switchyard::audit::{self, AuditOptions, AuditSecret, AuditWriter, GENESIS, verify};
use switchyard::store::Store;

use super::seed::{NOV_1, SECRET, entry};
use crate::support::databases::{BOTH, TestDb};

fn writer(store: &Store) -> AuditWriter {
    AuditWriter::start(
        store.clone(),
        AuditSecret::new(SECRET.to_vec()),
        AuditOptions {
            // Only shutdown flushes what does not fill a batch.
            interval: Duration::from_secs(3600),
            max_batch: 64,
            ..AuditOptions::default()
        },
    )
}

#[tokio::test]
async fn shutdown_writes_every_record_in_one_chain() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = Store::open(&db.url).await.unwrap();
        let w = writer(&store);
        for i in 0..500 {
            w.record(entry(i, NOV_1 + i));
        }
        w.shutdown().await;
        let c = w.counters();
        assert_eq!((c.written, c.dropped, c.pending), (500, 0, 0), "{kind:?}");
        let records = audit::records(&store).await.unwrap();
        assert_eq!(records.len(), 500, "{kind:?}");
        assert_eq!(records[0].prev_hash, GENESIS);
        // Queue order is chain order.
        let ids: Vec<String> = records
            .iter()
            .map(|r| r.request_id.clone().unwrap())
            .collect();
        let want: Vec<String> = (0..500).map(|i| format!("req-{i}")).collect();
        assert_eq!(ids, want, "{kind:?}");
        // The keyed hash, and plaintext only where allowed.
        let secret = AuditSecret::new(SECRET.to_vec());
        assert_eq!(
            records[1].prompt_hmac,
            Some(secret.hmac_hex("prompt 1 with \"quotes\"\nand a newline"))
        );
        assert_eq!(records[1].prompt_plaintext, None);
        assert_eq!(records[2].response_plaintext.as_deref(), Some("answer 2"));
        let verified = verify::check(&records, &[]).unwrap();
        assert_eq!(verified.head.seq, 500);
        // After shutdown, records are dropped and counted, never written.
        w.record(entry(500, NOV_1));
        assert_eq!(w.counters().dropped, 1);
    }
}

#[tokio::test]
async fn writers_of_several_processes_extend_one_chain() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        // Separate pools, as separate gateway processes would have.
        let (a, b) = (
            Store::open(&db.url).await.unwrap(),
            Store::open(&db.url).await.unwrap(),
        );
        let (wa, wb) = (writer(&a), writer(&b));
        for i in 0..300 {
            wa.record(entry(i, NOV_1));
            wb.record(entry(1000 + i, NOV_1));
        }
        tokio::join!(wa.shutdown(), wb.shutdown());
        assert_eq!(
            wa.counters().written + wb.counters().written,
            600,
            "{kind:?}"
        );
        let records = audit::records(&a).await.unwrap();
        assert_eq!(records.len(), 600, "{kind:?}");
        verify::check(&records, &[]).unwrap_or_else(|f| panic!("{kind:?}: {f}"));
    }
}

#[tokio::test]
async fn a_full_queue_drops_and_counts() {
    let db = TestDb::fresh(crate::support::databases::Db::Sqlite).await;
    let store = Store::open(&db.url).await.unwrap();
    let w = AuditWriter::start(
        store.clone(),
        AuditSecret::new(SECRET.to_vec()),
        AuditOptions {
            interval: Duration::from_secs(3600),
            capacity: 4,
            max_batch: 1000,
            ..AuditOptions::default()
        },
    );
    // The writer task has not run yet on this single-threaded runtime.
    for i in 0..10 {
        w.record(entry(i, NOV_1));
    }
    assert_eq!(w.counters().dropped, 6);
    w.shutdown().await;
    assert_eq!(w.counters().written, 4);
    assert_eq!(audit::records(&store).await.unwrap().len(), 4);
}
