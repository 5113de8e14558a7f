//! `switchyard audit verify` over a log tampered with directly in the
//! database, triggers dropped first (the triggers stop casual changes; the
//! chain and the anchors catch deliberate ones).

use sqlx::AssertSqlSafe;
use switchyard::audit::{self, AuditRecord, chain};
use switchyard::store::{Backend, Store};

use super::cli::verify;
use super::seed::{TempDir, config, write_log};
use crate::support::databases::{BOTH, Db, TestDb};

/// A log of 8 records, its config and anchor file, triggers dropped.
struct Log {
    store: Store,
    config: std::path::PathBuf,
    anchors: std::path::PathBuf,
    _dir: TempDir,
    _db: TestDb,
}

async fn log(kind: Db) -> Log {
    let db = TestDb::fresh(kind).await;
    let dir = TempDir::new();
    let anchors = dir.0.join("anchors.jsonl");
    let store = write_log(&db.url, 8, &anchors).await;
    let config = config(&dir.0, &db.url);
    let (code, text) = verify(&config, Some(&anchors));
    assert_eq!(code, 0, "{kind:?}: the honest log must pass: {text}");
    assert!(text.contains("8 records"), "{text}");
    let disable = match store.backend {
        Backend::Sqlite => "DROP TRIGGER sy_audit_no_update; DROP TRIGGER sy_audit_no_delete",
        Backend::Postgres => "ALTER TABLE sy_audit DISABLE TRIGGER USER",
    };
    sqlx::raw_sql(disable).execute(&store.pool).await.unwrap();
    Log {
        store,
        config,
        anchors,
        _dir: dir,
        _db: db,
    }
}

impl Log {
    async fn exec(&self, sql: &str) {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&self.store.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Verify's exit code must be 1 and its message contain `want`.
    fn fails_with(&self, want: &str, kind: Db) {
        let (code, text) = verify(&self.config, Some(&self.anchors));
        assert_eq!(code, 1, "{kind:?}: {text}");
        assert!(text.contains(want), "{kind:?}: want {want:?} in: {text}");
    }

    async fn record(&self, seq: i64) -> AuditRecord {
        audit::records(&self.store)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.seq == seq)
            .unwrap()
    }
}

#[tokio::test]
async fn a_changed_field_is_named() {
    for kind in BOTH {
        let log = log(kind).await;
        log.exec("UPDATE sy_audit SET model_group = 'gpt-3.5' WHERE seq = 4")
            .await;
        log.fails_with("record 4 was modified", kind);
    }
}

#[tokio::test]
async fn a_deleted_row_is_named() {
    for kind in BOTH {
        let log = log(kind).await;
        log.exec("DELETE FROM sy_audit WHERE seq = 4").await;
        log.fails_with("record 4 was deleted", kind);
    }
}

#[tokio::test]
async fn an_inserted_row_is_named() {
    for kind in BOTH {
        let log = log(kind).await;
        // A careful forger: makes room at 4 and chains a forged record
        // correctly onto record 3.
        let mut forged = log.record(4).await;
        let third = log.record(3).await;
        log.exec("UPDATE sy_audit SET seq = seq + 1000 WHERE seq >= 4")
            .await;
        log.exec("UPDATE sy_audit SET seq = seq - 999 WHERE seq >= 1000")
            .await;
        forged.request_id = Some("forged".into());
        forged.cost = 0.0;
        forged.seq = 4;
        forged.prev_hash = third.hash;
        forged.hash = chain::hash_of(&forged);
        log.exec(&insert_sql(&forged)).await;
        log.fails_with("record 4 was inserted", kind);
    }
}

#[tokio::test]
async fn a_swapped_pair_is_named() {
    for kind in BOTH {
        let log = log(kind).await;
        log.exec("UPDATE sy_audit SET seq = -4 WHERE seq = 4").await;
        log.exec("UPDATE sy_audit SET seq = 4 WHERE seq = 5").await;
        log.exec("UPDATE sy_audit SET seq = 5 WHERE seq = -4").await;
        log.fails_with("record 4 was reordered", kind);
    }
}

#[tokio::test]
async fn a_truncated_tail_is_caught_by_the_anchor() {
    for kind in BOTH {
        let log = log(kind).await;
        log.exec("DELETE FROM sy_audit WHERE seq >= 7").await;
        // The chain alone cannot tell a cut-off tail from a shorter log.
        let (code, text) = verify(&log.config, None);
        assert_eq!(code, 0, "{kind:?}: {text}");
        log.fails_with(
            "truncated: it ends at record 6, but an anchor names record 8",
            kind,
        );
    }
}

#[tokio::test]
async fn a_rewritten_and_rehashed_log_is_caught_by_the_anchor() {
    for kind in BOTH {
        let log = log(kind).await;
        // Rewrite every record from 2 on with valid hashes: only the
        // anchors, outside the database, tell.
        let mut records = audit::records(&log.store).await.unwrap();
        records[1].cost = 0.0;
        let head = chain::Head {
            seq: 1,
            hash: records[0].hash.clone(),
        };
        chain::seal(&head, &mut records[1..]);
        log.exec("DELETE FROM sy_audit WHERE seq >= 2").await;
        for r in &records[1..] {
            log.exec(&insert_sql(r)).await;
        }
        let (code, text) = verify(&log.config, None);
        assert_eq!(code, 0, "{kind:?}: {text}");
        log.fails_with(
            "rewritten, hashes and all, between record 1 and record",
            kind,
        );
    }
}

/// An INSERT with the values inline (a test's own, quoted) values.
fn insert_sql(r: &AuditRecord) -> String {
    fn text(v: &Option<String>) -> String {
        v.as_ref()
            .map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")))
    }
    let t = |s: &String| text(&Some(s.clone()));
    format!(
        "INSERT INTO sy_audit (seq, time_ms, kind, request_id, key_hash, user_id, team_id,
         caller_addr, data_class, data_class_reason, guardrails, model_group, attempts,
         prompt_tokens, completion_tokens, cost, prompt_hmac, response_hmac, prompt_plaintext,
         response_plaintext, prev_hash, hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {},
         {}, {}, {}, {}, {}, {:?}, {}, {}, {}, {}, {}, {})",
        r.seq,
        r.time_ms,
        t(&r.kind),
        text(&r.request_id),
        text(&r.key_hash),
        text(&r.user_id),
        text(&r.team_id),
        text(&r.caller_addr),
        text(&r.data_class),
        text(&r.data_class_reason),
        t(&r.guardrails),
        text(&r.model_group),
        t(&r.attempts),
        r.prompt_tokens,
        r.completion_tokens,
        r.cost,
        text(&r.prompt_hmac),
        text(&r.response_hmac),
        text(&r.prompt_plaintext),
        text(&r.response_plaintext),
        t(&r.prev_hash),
        t(&r.hash),
    )
}
