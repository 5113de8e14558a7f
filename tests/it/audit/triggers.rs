//! The database itself refuses to change or remove an audit record.

use switchyard::audit;

use super::seed::{TempDir, write_log};
use crate::support::databases::{BOTH, TestDb};

#[tokio::test]
async fn update_and_delete_are_refused() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let dir = TempDir::new();
        let store = write_log(&db.url, 3, &dir.0.join("anchors.jsonl")).await;
        let before = audit::records(&store).await.unwrap();
        for sql in [
            "UPDATE sy_audit SET cost = 0 WHERE seq = 2",
            "UPDATE sy_audit SET seq = 10 WHERE seq = 3",
            "DELETE FROM sy_audit WHERE seq = 1",
            "DELETE FROM sy_audit",
        ] {
            let err = sqlx::query(sql)
                .execute(&store.pool)
                .await
                .expect_err(&format!("{kind:?}: {sql} was let through"));
            assert!(
                err.to_string().contains("append-only"),
                "{kind:?}: {sql}: {err}"
            );
        }
        assert_eq!(audit::records(&store).await.unwrap(), before, "{kind:?}");
        if kind == crate::support::databases::Db::Postgres {
            let err = sqlx::query("TRUNCATE sy_audit")
                .execute(&store.pool)
                .await
                .expect_err("TRUNCATE was let through");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
    }
}
