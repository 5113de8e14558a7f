//! The store opens on both backends, creates its schema on first start and
//! finds it in place on the next.

use crate::support::databases::{BOTH, TestDb};
use switchyard::store::Store;

#[tokio::test]
async fn schema_is_created_once_and_reopened() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        let store = Store::open(&db.url)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let applied: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(applied.0, 3, "{kind:?}");
        store.pool.close().await;
        let again = Store::open(&db.url).await.unwrap();
        let applied: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&again.pool)
            .await
            .unwrap();
        assert_eq!(applied.0, 3, "{kind:?}: reopening applies nothing twice");
    }
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let e = Store::open("postgres://nobody@127.0.0.1:notaport/none")
        .await
        .unwrap_err();
    assert!(e.contains("database url"), "{e}");
}
