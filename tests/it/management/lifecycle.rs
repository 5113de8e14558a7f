//! A LiteLLM user's script, end to end, on SQLite and on PostgreSQL:
//! create a team, a user and a key with a budget and limits; use the key;
//! read it back; block, unblock, regenerate, restart, delete.

use std::time::Duration;

use serde_json::json;

use super::{Transcript, assert_error, call, chat, start};
use crate::support::MASTER_KEY;
use crate::support::databases::{BOTH, TestDb};

#[tokio::test]
async fn a_litellm_script_end_to_end_on_both_databases() {
    for kind in BOTH {
        let db = TestDb::fresh(kind).await;
        script(&db).await;
    }
}

async fn script(db: &TestDb) {
    let gw = start(Some(db)).await;
    let mut t = Transcript::default();
    let master = Some(MASTER_KEY);

    let (s, team) = call(
        &gw,
        master,
        "/team/new",
        Some(
            json!({"team_id": "marketing", "team_alias": "Marketing", "models": ["gpt-4o"],
                    "max_budget": 100.0, "budget_duration": "1mo", "rpm_limit": 600}),
        ),
        Some(&mut t),
    )
    .await;
    assert_eq!(s, 200, "{team}");
    assert_eq!(team["team_id"], "marketing");
    assert_eq!(team["max_budget"], 100.0);
    assert!(team["budget_reset_at"].is_string(), "{team}");

    let (s, user) = call(
        &gw,
        master,
        "/user/new",
        Some(
            json!({"user_id": "ana", "user_email": "ana@example.com", "user_role": "internal_user",
                    "teams": ["marketing"], "auto_create_key": false}),
        ),
        Some(&mut t),
    )
    .await;
    assert_eq!(s, 200, "{user}");
    assert_eq!(
        (&user["user_role"], &user["teams"]),
        (&json!("internal_user"), &json!(["marketing"]))
    );
    assert!(user["key"].is_null());

    let (s, generated) = call(
        &gw,
        master,
        "/key/generate",
        Some(
            json!({"key_alias": "ana-laptop", "team_id": "marketing", "user_id": "ana",
                    "models": ["gpt-4o"], "max_budget": 10.5, "budget_duration": "30d",
                    "soft_budget": 8.0, "tpm_limit": 10000, "rpm_limit": 60,
                    "max_parallel_requests": 4, "model_rpm_limit": {"gpt-4o": 30},
                    "metadata": {"project": "launch"}, "tags": ["campaign"], "duration": "30d",
                    "data_class": "internal"}),
        ),
        Some(&mut t),
    )
    .await;
    assert_eq!(s, 200, "{generated}");
    let key = generated["key"].as_str().unwrap().to_string();
    let token = generated["token"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk-"), "{generated}");
    assert_eq!(token.len(), 64, "the token is the hex SHA-256: {generated}");
    assert_eq!(
        generated["key_name"],
        format!("sk-...{}", &key[key.len() - 4..]),
        "{generated}"
    );
    assert!(generated["expires"].is_string(), "{generated}");

    // The key works.
    let (s, answer) = chat(&gw, &key).await;
    assert_eq!(s, 200, "{answer}");

    // /key/info shows what was set, by hash and masked name.
    let (s, info) = call(
        &gw,
        master,
        &format!("/key/info?key={key}"),
        None,
        Some(&mut t),
    )
    .await;
    assert_eq!(s, 200, "{info}");
    assert_eq!(info["key"], token);
    let i = &info["info"];
    for (field, want) in [
        ("token", json!(token)),
        ("key_alias", json!("ana-laptop")),
        ("team_id", json!("marketing")),
        ("user_id", json!("ana")),
        ("models", json!(["gpt-4o"])),
        ("max_budget", json!(10.5)),
        ("soft_budget", json!(8.0)),
        ("budget_duration", json!("30d")),
        ("tpm_limit", json!(10000)),
        ("rpm_limit", json!(60)),
        ("max_parallel_requests", json!(4)),
        ("model_rpm_limit", json!({"gpt-4o": 30})),
        ("metadata", json!({"project": "launch"})),
        ("tags", json!(["campaign"])),
        ("data_class", json!("internal")),
        ("blocked", json!(false)),
        ("spend", json!(0.0)),
    ] {
        assert_eq!(i[field], want, "{field}: {info}");
    }
    // The key can read its own info, by hash too.
    let (s, own) = call(&gw, Some(&key), "/key/info", None, Some(&mut t)).await;
    assert_eq!((s, &own["key"]), (200, &json!(token)), "{own}");
    let (s, _) = call(
        &gw,
        master,
        &format!("/key/info?key={token}"),
        None,
        Some(&mut t),
    )
    .await;
    assert_eq!(s, 200);

    // Listed under its user and team.
    let (s, list) = call(
        &gw,
        master,
        "/key/list?team_id=marketing",
        None,
        Some(&mut t),
    )
    .await;
    assert_eq!(
        (s, &list["keys"], &list["total_count"]),
        (200, &json!([token]), &json!(1)),
        "{list}"
    );
    let (_, full) = call(
        &gw,
        master,
        "/key/list?user_id=ana&return_full_object=true",
        None,
        Some(&mut t),
    )
    .await;
    assert_eq!(full["keys"][0]["key_alias"], "ana-laptop", "{full}");

    // Update.
    let (s, updated) = call(
        &gw,
        master,
        "/key/update",
        Some(json!({"key": key, "max_budget": 20.0, "metadata": {"project": "relaunch"}})),
        Some(&mut t),
    )
    .await;
    assert_eq!(s, 200, "{updated}");
    assert_eq!(
        (&updated["max_budget"], &updated["rpm_limit"]),
        (&json!(20.0), &json!(60))
    );

    // Block: 401; unblock: works again.
    let (s, blocked) = call(
        &gw,
        master,
        "/key/block",
        Some(json!({"key": key})),
        Some(&mut t),
    )
    .await;
    assert_eq!((s, &blocked["blocked"]), (200, &json!(true)), "{blocked}");
    let (s, refused) = chat(&gw, &key).await;
    assert_error(s, &refused, 401, None);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("blocked"),
        "{refused}"
    );
    let (s, _) = call(
        &gw,
        master,
        "/key/unblock",
        Some(json!({"key": token})),
        Some(&mut t),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(chat(&gw, &key).await.0, 200);

    // Regenerate: a new secret, the same settings; the old secret is dead.
    let (s, regenerated) = call(
        &gw,
        master,
        "/key/regenerate",
        Some(json!({"key": key})),
        Some(&mut t),
    )
    .await;
    assert_eq!(s, 200, "{regenerated}");
    let new_key = regenerated["key"].as_str().unwrap().to_string();
    let new_token = regenerated["token"].as_str().unwrap().to_string();
    assert_ne!(new_key, key);
    assert_eq!(
        (&regenerated["key_alias"], &regenerated["max_budget"]),
        (&json!("ana-laptop"), &json!(20.0))
    );
    let (s, refused) = chat(&gw, &key).await;
    assert_error(s, &refused, 401, None);
    assert_eq!(chat(&gw, &new_key).await.0, 200);

    // A restarted gateway on the same database knows the key.
    drop(gw);
    let gw = start(Some(db)).await;
    assert_eq!(chat(&gw, &new_key).await.0, 200, "after a restart");
    assert_eq!(chat(&gw, &key).await.0, 401, "the old secret stays dead");

    // Delete by alias: 401, and /key/info is a 404.
    let (s, deleted) = call(
        &gw,
        master,
        "/key/delete",
        Some(json!({"key_aliases": ["ana-laptop"]})),
        Some(&mut t),
    )
    .await;
    assert_eq!(
        (s, &deleted["deleted_keys"]),
        (200, &json!([new_token])),
        "{deleted}"
    );
    let (s, gone) = chat(&gw, &new_key).await;
    assert_error(s, &gone, 401, None);
    let (s, gone) = call(
        &gw,
        master,
        &format!("/key/info?key={new_key}"),
        None,
        Some(&mut t),
    )
    .await;
    assert_error(s, &gone, 404, Some("key"));

    t.assert_only_in(&key, &["/key/generate"]);
    t.assert_only_in(&new_key, &["/key/regenerate"]);
}

#[tokio::test]
async fn an_expired_key_is_refused_saying_so() {
    let dbs = [TestDb::fresh(BOTH[0]).await, TestDb::fresh(BOTH[1]).await];
    let mut running = Vec::new();
    for db in &dbs {
        let gw = start(Some(db)).await;
        let (_, generated) = call(
            &gw,
            Some(MASTER_KEY),
            "/key/generate",
            Some(json!({"duration": "3s"})),
            None,
        )
        .await;
        let key = generated["key"].as_str().unwrap().to_string();
        assert_eq!(chat(&gw, &key).await.0, 200, "{}: fresh", db.url);
        running.push((gw, key));
    }
    // Expiry is kept in whole seconds: 3 s from any instant of the second
    // the key was made in has passed after 3.1 s.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    for (gw, key) in &running {
        let (s, refused) = chat(gw, key).await;
        assert_error(s, &refused, 401, None);
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains("expired"), "{refused}");
    }
}
