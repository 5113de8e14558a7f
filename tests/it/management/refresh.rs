//! Two gateways on one PostgreSQL database: what one changes, the other
//! picks up within its refresh interval (200 ms in these tests).

use std::time::{Duration, Instant};

use serde_json::json;

use super::{admin, chat, start};
use crate::support::Gateway;
use crate::support::databases::{Db, TestDb};

/// Waits (up to 5 s) until a chat with `key` on `gw` answers `want`.
async fn until_chat_is(gw: &Gateway, key: &str, want: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = chat(gw, key).await;
        if status == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {status}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn changes_on_one_instance_reach_the_other() {
    let db = TestDb::fresh(Db::Postgres).await;
    let (a, b) = (start(Some(&db)).await, start(Some(&db)).await);

    let key = admin(&a, "/key/generate", json!({"key_alias": "shared"})).await;
    let key = key["key"].as_str().unwrap().to_string();
    until_chat_is(&b, &key, 200, "a key made on a works on b").await;

    admin(&a, "/key/block", json!({"key": key})).await;
    until_chat_is(&b, &key, 401, "a key blocked on a is refused by b").await;
    admin(&a, "/key/unblock", json!({"key": key})).await;
    until_chat_is(&b, &key, 200, "and unblocked").await;

    let regenerated = admin(&a, "/key/regenerate", json!({"key": key})).await;
    let new_key = regenerated["key"].as_str().unwrap().to_string();
    until_chat_is(&b, &key, 401, "the old secret dies on b").await;
    until_chat_is(&b, &new_key, 200, "the new secret works on b").await;

    admin(&a, "/team/new", json!({"team_id": "eng"})).await;
    admin(&a, "/key/update", json!({"key": new_key, "team_id": "eng"})).await;
    admin(&a, "/team/block", json!({"team_id": "eng"})).await;
    until_chat_is(&b, &new_key, 401, "a team blocked on a is refused by b").await;
    admin(&a, "/team/unblock", json!({"team_id": "eng"})).await;
    until_chat_is(&b, &new_key, 200, "and unblocked").await;

    admin(&a, "/key/delete", json!({"keys": [new_key]})).await;
    until_chat_is(&b, &new_key, 401, "a key deleted on a is refused by b").await;
}

#[tokio::test]
async fn a_team_deleted_and_made_again_on_one_instance_is_alive_on_the_other() {
    let db = TestDb::fresh(Db::Postgres).await;
    let (a, b) = (start(Some(&db)).await, start(Some(&db)).await);
    admin(&a, "/team/new", json!({"team_id": "phoenix"})).await;
    let key = admin(&a, "/key/generate", json!({"team_id": "phoenix"})).await;
    let key = key["key"].as_str().unwrap().to_string();
    until_chat_is(&b, &key, 200, "b knows the key").await;
    // Deleting the team deletes its keys; a key made in the new team works.
    admin(&a, "/team/delete", json!({"team_ids": ["phoenix"]})).await;
    admin(&a, "/team/new", json!({"team_id": "phoenix"})).await;
    let again = admin(&a, "/key/generate", json!({"team_id": "phoenix"})).await;
    let again = again["key"].as_str().unwrap().to_string();
    until_chat_is(&b, &key, 401, "the deleted team's key is gone on b").await;
    until_chat_is(&b, &again, 200, "the new team's key works on b").await;
}
